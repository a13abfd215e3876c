import ArgumentParser
import Foundation
import Corpus
import Kernels
import Transformer

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validation perplexity, bits per byte and size of a model.")

    @Option(help: "The model (.safetensors).") var model: String
    @OptionGroup var corpusOption: CorpusOption
    @Option(help: "Score at most this many validation windows (default: all).") var windows: Int?
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let (m, metadata) = try loadModel(model)
        let corpus = try corpusOption.load(context: m.config.context)
        let e = evaluate(m, corpus: corpus, windows: windows)
        // A full-precision model stores every parameter as float32.
        let parameters = m.config.parameterCount
        let bytes = parameters * 4
        let result = EvalResult(
            method: metadata["method"] ?? "fp", corpus: corpus.name, perplexity: e.perplexity,
            bits_per_byte: e.bitsPerByte, floor_bits_per_byte: e.floorBitsPerByte,
            weight_bits_per_parameter: Double(bytes * 8) / Double(parameters), model_bytes: bytes,
            parameters: parameters, tokens: e.tokens)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print("model        \(model) (\(result.method), \(parameters) parameters)")
            print("corpus       \(corpus.name), \(e.tokens) validation bytes scored")
            print("perplexity   \(format(e.perplexity))")
            print("bits/byte    \(format(e.bitsPerByte))")
            print("floor        " + (e.floorBitsPerByte.map { "\(format($0)) bits/byte (gap \(format(e.bitsPerByte - $0)))" } ?? "unknown (not a generated corpus)"))
            print("weight bits  \(format(result.weight_bits_per_parameter, 2)) per parameter")
            print("model bytes  \(bytes)")
        }
    }
}

struct EvalResult: Codable {
    var method: String, corpus: String
    var perplexity: Double, bits_per_byte: Double, floor_bits_per_byte: Double?
    var weight_bits_per_parameter: Double, model_bytes: Int, parameters: Int, tokens: Int

    // Keep "floor_bits_per_byte": null in the JSON when unknown.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method, forKey: .method); try c.encode(corpus, forKey: .corpus)
        try c.encode(perplexity, forKey: .perplexity); try c.encode(bits_per_byte, forKey: .bits_per_byte)
        try c.encode(floor_bits_per_byte, forKey: .floor_bits_per_byte)
        try c.encode(weight_bits_per_parameter, forKey: .weight_bits_per_parameter)
        try c.encode(model_bytes, forKey: .model_bytes); try c.encode(parameters, forKey: .parameters)
        try c.encode(tokens, forKey: .tokens)
    }
}
