import Foundation

/// Why a corpus could not be loaded; each message is one line naming the path.
public enum CorpusError: Error, CustomStringConvertible, LocalizedError {
    case missingFile(path: String)
    case isDirectory(path: String)
    case unreadable(path: String, reason: String)
    case empty(path: String)
    case tooShort(path: String, bytes: Int, needed: Int, minimumValidationBytes: Int)

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "corpus file not found: \(path)"
        case .isDirectory(let path):
            return "corpus path is a directory, not a text file: \(path)"
        case .unreadable(let path, let reason):
            return "cannot read corpus file \(path): \(reason)"
        case .empty(let path):
            return "corpus file is empty: \(path)"
        case .tooShort(let path, let bytes, let needed, let minimum):
            return "corpus \(path) is too short: it has \(bytes) bytes but needs at least \(needed) "
                + "so that its validation part (last 10 %) holds \(minimum) bytes"
        }
    }

    public var errorDescription: String? { description }
}
