// The readers that take files from outside, as a fuzzer drives them: any
// input either reads or is refused with an error; a crash, a trap or a hang
// is a bug. `make fuzz` builds this with libFuzzer (-D FUZZING) and runs each
// target; built normally it replays inputs, which is how the tests run the
// committed fixtures (Tests/Fixtures/fuzz/TARGET/).
//
//     fuzz-readers TARGET FILE...        (replay)
//     FUZZ_TARGET=TARGET fuzz-readers [libFuzzer options] [CORPUS]
import Foundation
import Binarization
import Corpus
import Experiments
import Kernels
import Randomness

enum Target: String, CaseIterable {
    case safetensors    // a student or teacher checkpoint, read as floats and straight into the packed kernels
    case corpus         // a corpus file, split and cut into training and validation windows
    case sweep          // a sweep's CSV, read back into records (what a resumed sweep does)
}

/// A scratch file per process, in memory where the system has a place for it.
let scratch = URL(fileURLWithPath: FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
    .appendingPathComponent("fuzz-readers-\(getpid())")

func exercise(_ target: Target, _ data: Data) {
    _ = FileManager.default.createFile(atPath: scratch.path, contents: data)
    switch target {
    case .safetensors:
        _ = try? Student.load(from: scratch)
        _ = try? Student.load(from: scratch, packed: .int8)
    case .corpus:
        guard let corpus = try? Corpus.load(scratch.path, minimumBytes: 16) else { return }
        var rng = SeededGenerator(seed: 1)
        _ = corpus.trainingBatch(batch: 2, length: 8, using: &rng)
        _ = corpus.windows(at: corpus.validationWindows(length: 8, limit: 4), length: 8)
    case .sweep:
        _ = try? SweepRecord.read(scratch)
    }
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

guard let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"], let fuzzed = Target(rawValue: name) else {
    FileHandle.standardError.write(Data("fuzz-readers: set FUZZ_TARGET to one of \(Target.allCases.map(\.rawValue))\n".utf8))
    exit(64)
}
nonisolated(unsafe) var target = fuzzed
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runDriver(&argc, &argv) { bytes, count in
    exercise(target, bytes.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
})
#else
let arguments = CommandLine.arguments.dropFirst()
guard let name = arguments.first, let target = Target(rawValue: name) else {
    FileHandle.standardError.write(Data("usage: fuzz-readers \(Target.allCases.map(\.rawValue).joined(separator: "|")) FILE...\n".utf8))
    exit(64)
}
for path in arguments.dropFirst() {
    guard let data = FileManager.default.contents(atPath: path) else {
        FileHandle.standardError.write(Data("fuzz-readers: cannot read \(path)\n".utf8))
        exit(1)
    }
    exercise(target, data)
}
print("fuzz-readers: \(arguments.count - 1) \(target.rawValue) input(s) read or refused, none crashed")
#endif
try? FileManager.default.removeItem(at: scratch)
