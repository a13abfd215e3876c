import ArgumentParser
import Experiments
import Foundation
import Binarization
import Corpus
import Kernels
import Transformer

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validation perplexity, bits per byte and size of a teacher or a binarized student.")

    @Option(help: "The model (.safetensors): a teacher from `train` or a student from `binarize`.") var model: String
    @OptionGroup var corpusOption: CorpusOption
    @Option(help: "Score at most this many validation windows (default: all).") var windows: Int?
    @Flag(help: "Run a student's layers as float weights (the training-time simulation) instead of the packed kernels.")
    var float = false
    @Option(help: "How the packed kernels round activations: int16 (two int8 planes) or int8 (one, faster).")
    var activations: ActivationPrecision = .int16
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        compute.apply()
        if let windows, windows < 1 { throw Failure("--windows must be at least 1") }
        let (m, method, metadata) = try loadStudent(model, packed: float ? nil : activations)
        let corpus = try corpusOption.load(context: m.config.context)
        let layers = float ? (packed: 0, float: m.config.layers * 7) : Student.pack(m, precision: activations)
        let e = evaluate(m, corpus: corpus, windows: windows)
        guard e.perplexity.isFinite else { throw Failure("\(model) scores a loss that is not finite (NaN or overflowing weights?)") }
        // A teacher stores every parameter as float32; a student as its method's accounting says.
        let isTeacher = metadata["binarization"] == nil
        let storage = Storage.model(ModelShape(m.config), method, fullPrecisionBits: isTeacher ? 32 : 16)
        let parameters = m.config.parameterCount
        let fileBytes = (try? FileManager.default.attributesOfItem(atPath: model)[.size] as? Int) ?? nil
        let result = EvalResult(
            method: method.name, settings: Dictionary(uniqueKeysWithValues: method.settings.map { ($0.name, $0.value) }),
            corpus: corpus.name,
            perplexity: e.perplexity, bits_per_byte: e.bitsPerByte, floor_bits_per_byte: e.floorBitsPerByte,
            weight_bits_per_parameter: Double(storage.bits) / Double(parameters),
            binarized_bits_per_weight: storage.linearBitsPerWeight, model_bytes: storage.bytes,
            file_bytes: fileBytes ?? 0, parameters: parameters, tokens: e.tokens,
            kernels: layers.packed == 0 ? "float" : layers.float == 0 ? "packed" : "mixed",
            activations: layers.packed == 0 ? "float32" : activations.rawValue, packed_layers: layers.packed,
            linear_bytes_in_memory: Student.linearBytesInMemory(m))
        if json {
            try printJSON(result)
        } else {
            print("model        \(model) (\(method), \(parameters) parameters)")
            print("corpus       \(corpus.name), \(e.tokens) validation bytes scored")
            print("perplexity   \(format(e.perplexity))")
            print("bits/byte    \(format(e.bitsPerByte))")
            print("floor        " + (e.floorBitsPerByte.map { "\(format($0)) bits/byte (gap \(format(e.bitsPerByte - $0)))" } ?? "unknown (not a generated corpus)"))
            print("weight bits  \(format(result.weight_bits_per_parameter, 3)) per parameter; "
                  + "\(format(result.binarized_bits_per_weight, 3)) per weight of the block linear layers")
            print("model bytes  \(storage.bytes) (file \(result.file_bytes), the rest is its header)")
            print("kernels      \(layers.packed) linear layers packed (\(result.activations) activations), \(layers.float) in float; "
                  + "linear layers hold \(result.linear_bytes_in_memory) bytes in memory")
        }
    }
}

struct EvalResult: Codable {
    var method: String, settings: [String: String], corpus: String
    var perplexity: Double, bits_per_byte: Double, floor_bits_per_byte: Double?
    var weight_bits_per_parameter: Double, binarized_bits_per_weight: Double
    var model_bytes: Int, file_bytes: Int, parameters: Int, tokens: Int
    var kernels: String, activations: String, packed_layers: Int, linear_bytes_in_memory: Int

    // Keep "floor_bits_per_byte" in the JSON as null when unknown.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method, forKey: .method); try c.encode(settings, forKey: .settings)
        try c.encode(corpus, forKey: .corpus)
        try c.encode(perplexity, forKey: .perplexity); try c.encode(bits_per_byte, forKey: .bits_per_byte)
        try c.encode(floor_bits_per_byte, forKey: .floor_bits_per_byte)
        try c.encode(weight_bits_per_parameter, forKey: .weight_bits_per_parameter)
        try c.encode(binarized_bits_per_weight, forKey: .binarized_bits_per_weight)
        try c.encode(model_bytes, forKey: .model_bytes); try c.encode(file_bytes, forKey: .file_bytes)
        try c.encode(parameters, forKey: .parameters); try c.encode(tokens, forKey: .tokens)
        try c.encode(kernels, forKey: .kernels); try c.encode(activations, forKey: .activations)
        try c.encode(packed_layers, forKey: .packed_layers)
        try c.encode(linear_bytes_in_memory, forKey: .linear_bytes_in_memory)
    }
}
