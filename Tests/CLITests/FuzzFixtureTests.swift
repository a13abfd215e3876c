import XCTest
import Foundation

/// The fuzzing fixtures (Tests/Fixtures/fuzz/TARGET/: hand-made edge cases
/// and whatever `make fuzz` once crashed on) replayed through the same
/// readers, built normally: each file reads or is refused, none crashes.
final class FuzzFixtureTests: XCTestCase {
    func testEveryFixtureReadsOrIsRefused() throws {
        let replay = mosBinary.deletingLastPathComponent().appendingPathComponent("fuzz-readers")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: replay.path), "fuzz-readers not built at \(replay.path)")
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fuzz")
        for target in ["safetensors", "corpus", "sweep"] {
            let folder = fixtures.appendingPathComponent(target)
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            XCTAssertFalse(files.isEmpty, target)
            let p = Process()
            p.executableURL = replay
            p.arguments = [target] + files.map { folder.appendingPathComponent($0).path }
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "\(target): \(text)")
            XCTAssertTrue(text.contains("\(files.count) \(target) input(s) read or refused, none crashed"), text)
        }
    }
}
