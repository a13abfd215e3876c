import Files
import ArgumentParser
import Experiments
import Foundation
import Binarization
import Transformer

struct Memory: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Storage of a model under a method, computed from its shapes.",
        discussion: """
        Linear layers inside the blocks take the method's bits; the embedding, head and norms stay in \
        16 bits. Shapes: \(ModelShape.named.keys.sorted().joined(separator: ", ")), or a checkpoint's path \
        (its config is read from the file). GB are 10⁹ bytes.

        """ + methodHelp)

    @Option(help: "A named LLaMA shape or a checkpoint (.safetensors).") var shape: String
    @OptionGroup var method: MethodArguments
    @Option(help: "Bits of each scale, router weight and group scale or zero: 16 or 32.") var scaleBits: Int = 16
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func run() throws {
        guard scaleBits == 16 || scaleBits == 32 else { throw Failure("--scale-bits must be 16 or 32") }
        let m = try method.single()
        let architecture = try resolveShape()
        let storage = Storage.model(architecture, m, scaleBits: scaleBits)
        let fp16 = Storage.model(architecture, Method(FullPrecision()))
        let result = MemoryResult(
            shape: architecture.name, method: m.description, parameters: architecture.parameters,
            total_bytes: storage.bytes, bits_per_weight: storage.linearBitsPerWeight,
            model_bits_per_parameter: Double(storage.bits) / Double(architecture.parameters),
            compression_vs_fp16: Double(fp16.bits) / Double(storage.bits),
            parts_bytes: storage.parts.mapValues { ($0 + 7) / 8 })
        if json {
            try printJSON(result)
            return
        }
        print("shape        \(architecture.name): \(architecture.parameters) parameters, "
              + "\(architecture.linearWeights) in block linear layers")
        print("method       \(m), scales in \(scaleBits) bits")
        print("total        \(storage.bytes) bytes = \(format(Double(storage.bytes) / 1e9, 3)) GB "
              + "(FP16 \(format(Double(fp16.bytes) / 1e9, 3)) GB, \(format(result.compression_vs_fp16, 2))× smaller)")
        print("bits/weight  \(format(result.bits_per_weight, 4)) in the block linear layers, "
              + "\(format(result.model_bits_per_parameter, 4)) over all parameters")
        for (part, bits) in storage.parts.sorted(by: { $0.value > $1.value }) {
            print("  \(part.padding(toLength: 16, withPad: " ", startingAt: 0)) \((bits + 7) / 8) bytes")
        }
    }

    func resolveShape() throws -> ModelShape {
        if let named = ModelShape.named[shape] { return named }
        guard shape.hasSuffix(".safetensors") || FileManager.default.fileExists(atPath: shape) else {
            throw Failure("unknown shape '\(shape)'; name one of "
                                  + ModelShape.named.keys.sorted().joined(separator: ", ") + " or a checkpoint")
        }
        let file: Safetensors
        do { file = try Safetensors.read(from: URL(fileURLWithPath: shape)) }
        catch let error as FileError { throw Failure(error.description) }
        guard let json = file.metadata["config"],
              let config = try? JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)) else {
            throw Failure("\(shape) has no readable model config in its metadata")
        }
        guard config.problems.isEmpty else {
            throw Failure("\(shape) has an invalid model config: " + config.problems.joined(separator: "; "))
        }
        return ModelShape(config, name: (shape as NSString).lastPathComponent)
    }
}

struct MemoryResult: Codable {
    var shape: String, method: String, parameters: Int
    var total_bytes: Int, bits_per_weight: Double, model_bits_per_parameter: Double, compression_vs_fp16: Double
    var parts_bytes: [String: Int]
}
