import ArgumentParser
import Experiments
import Foundation
import Kernels
import Transformer
import Binarization

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sample text from a model.")

    @Option(help: "The model (.safetensors).") var model: String
    @Option(help: "Text to continue.") var prompt: String = ""
    @Option(help: "Bytes to generate.") var bytes: Int = 300
    @Option(help: "Sampling temperature (0: always the likeliest byte).") var temperature: Float = 0.8
    @Option(help: "Seed for sampling.") var seed: UInt64 = 1
    @Flag(help: "Run a student's layers as float weights instead of the packed kernels.") var float = false
    @Option(help: "How the packed kernels round activations: int16 (two int8 planes) or int8 (one, faster).")
    var activations: ActivationPrecision = .int16
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        compute.apply()
        guard bytes >= 0 else { throw Failure("--bytes must not be negative") }
        guard temperature >= 0 else { throw Failure("--temperature must be a number, 0 or more") }
        let (m, method, _) = try loadStudent(model, packed: float ? nil : activations)
        let start = Date()
        let text = generate(m, prompt: Array(prompt.utf8), count: bytes, temperature: temperature, seed: seed)
        let seconds = Date().timeIntervalSince(start)
        print(prompt + String(decoding: text, as: UTF8.self))
        log("\(method), \(float ? "float" : "packed (\(activations.rawValue) activations)") kernels: \(bytes) bytes in \(format(seconds, 2)) s "
            + "(\(format(Double(bytes) / max(seconds, 1e-9), 1)) bytes/s)")
    }
}
