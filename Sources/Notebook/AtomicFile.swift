import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that readers only ever see the old content or the new
/// content, never a half-written file: the data goes to a temporary file in the
/// same directory (so the final rename stays on one file system, where it is
/// atomic), is flushed to disk, and is then renamed over the target.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

        // A hidden, unique name: two processes writing the same target never
        // share a temporary file, and a crashed writer leaves an obvious stray.
        let temporary = directory.appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw AtomicFileError(path: temporary.path, operation: "create", code: errno)
        }
        var renamed = false
        defer { if !renamed { try? FileManager.default.removeItem(at: temporary) } }

        let handle = try FileHandle(forWritingTo: temporary)
        do {
            try handle.write(contentsOf: data)
            try handle.synchronize()   // the bytes are on disk before the name points at them
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }

        guard rename(temporary.path, url.path) == 0 else {
            throw AtomicFileError(path: url.path, operation: "rename onto", code: errno)
        }
        renamed = true
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }
}

public struct AtomicFileError: Error, CustomStringConvertible {
    public let path: String
    public let operation: String
    public let code: Int32

    public var description: String {
        "could not \(operation) \(path): \(String(cString: strerror(code)))"
    }
}
