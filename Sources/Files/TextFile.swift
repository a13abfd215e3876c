import Foundation

/// Reads a text file; when it cannot, says why in words a user can act on,
/// rather than passing on Foundation's error domain and code.
public enum TextFile {
    public static func read(_ url: URL) throws -> String {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw FileError(path: url.path, problem: "does not exist")
        }
        guard !isFolder.boolValue else { throw FileError(path: url.path, problem: "is a folder, not a file") }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FileError(path: url.path, problem: "cannot be read (no permission?)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw FileError(path: url.path, problem: "is not UTF-8 text")
        }
        return text
    }
}

