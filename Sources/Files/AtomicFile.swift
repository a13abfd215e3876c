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
        try refuseFolder(url)
        let directory = url.deletingLastPathComponent()
        try makeFolder(directory)

        // A hidden, unique name: two processes writing the same target never
        // share a temporary file, and a crashed writer leaves an obvious stray.
        let temporary = directory.appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw FileError(path: url.path, code: errno)
        }
        var renamed = false
        defer { if !renamed { try? FileManager.default.removeItem(at: temporary) } }

        guard let handle = try? FileHandle(forWritingTo: temporary) else {
            throw FileError(path: url.path, problem: "cannot be written: its temporary file cannot be opened")
        }
        do {
            try handle.write(contentsOf: data)
            try handle.synchronize()   // the bytes are on disk before the name points at them
            try handle.close()
        } catch {
            try? handle.close()
            throw FileError(path: url.path, problem: "could not be written in full (disk full?)")
        }

        guard rename(temporary.path, url.path) == 0 else { throw FileError(path: url.path, code: errno) }
        renamed = true
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Checks that a file can be written at `url`, before the work that makes it:
    /// `url` is not a folder, and its folder exists (or is made now) and takes a new file.
    public static func checkTarget(_ url: URL) throws {
        try refuseFolder(url)
        try checkFolder(url.deletingLastPathComponent())
    }

    /// A file is written only where no folder is: replacing one would delete it.
    static func refuseFolder(_ url: URL) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
            throw FileError(path: url.path, problem: "is a folder; give a file name")
        }
    }

    /// Makes `url` a folder, with its parents, and checks that a file can be created in it.
    public static func checkFolder(_ url: URL) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw FileError(path: url.path, problem: "is a file, where a folder is needed")
        }
        try makeFolder(url)
        // Only a file actually created shows that one can be (permissions, read-only mounts, /proc).
        let probe = url.appendingPathComponent(".probe.\(getpid()).\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: probe.path, contents: nil) else {
            throw FileError(path: url.path, code: errno)
        }
        try? FileManager.default.removeItem(at: probe)
    }

    static func makeFolder(_ url: URL) throws {
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        catch { throw FileError(path: url.path, problem: "cannot be made a folder (a file in its path, or no permission)") }
    }
}

/// A file or folder that cannot be written, in one line.
