import Foundation

/// A file that cannot be read, parsed or written, as one line: its path,
/// then the problem ("… is truncated: …", "… cannot be written: …").
public struct FileError: Error, CustomStringConvertible, Equatable {
    public let path: String, problem: String

    public init(path: String, problem: String) { self.path = path; self.problem = problem }
    init(path: String, code: Int32) { self.init(path: path, problem: "cannot be written: " + String(cString: strerror(code))) }

    public var description: String { "\(path) \(problem)" }
}
