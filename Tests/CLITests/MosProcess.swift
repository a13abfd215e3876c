import Foundation

/// The `mos` binary built beside the test bundle (same configuration).
var mosBinary: URL {
    var dir = Bundle.main.bundleURL
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("mos")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return root.appendingPathComponent(".build/release/mos")
}

/// Runs `mos` with `arguments`: its exit status, standard output and error.
/// A run past `timeout` seconds is stopped (a refusal must come up front).
func runMos(_ arguments: [String], timeout: Double = 600) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = mosBinary
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err
    try p.run()
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { if p.isRunning { p.terminate() } }
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}
