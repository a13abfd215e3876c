import Files
import Randomness
import Foundation
import Kernels
import Corpus
import Transformer

/// A binarized copy of a teacher: the same embedding, norms and head (frozen,
/// kept in full precision), and every linear layer of every block replaced by
/// the method's layer. Post-training methods are finished here; trained ones
/// (OneBit, BinaryMoS) come back initialised from the teacher, ready for `distill`.
public enum Student {
    /// Calibration for the methods that need inputs (GPTQ, BiLLM, ARB, PB-LLM
    /// with Hessian saliency or compensation): `windows` training windows, chosen by `seed`.
    public static func make(from teacher: TransformerModel, method: Method, corpus: Corpus, seed: UInt64,
                            calibrationWindows windows: Int = 32) -> TransformerModel {
        precondition(method.problems.isEmpty, method.problems.joined(separator: "; "))
        let c = teacher.config
        let student = TransformerModel(config: c, seed: seed)
        for (s, t) in zip(student.parameters, teacher.parameters) { s.value.copy(from: t.value) }
        for p in student.parameters { p.trainable = false }
        var rng = SeededGenerator(seed: seed ^ 0xB1_4A7E)
        let workspace = Workspace()
        var calibration: (inputs: [Int32], targets: [Int32])?
        if method.needsCalibration {
            calibration = corpus.trainingBatch(batch: windows, length: c.context, using: &rng)
        }
        for (l, block) in student.blocks.enumerated() {
            // Calibration inputs of this block, with the blocks before it already quantized (as GPTQ does).
            var hessians: [String: InverseHessian] = [:]
            if let calibration {
                student.forward(tokens: calibration.inputs, targets: calibration.targets, batch: windows, length: c.context)
                let inputs = student.linearInputs(block: l)
                for (name, layer) in block.linears {
                    var h: [Float] = []
                    accumulateHessian(&h, inputs[name]!, rows: student.lastRows, cols: layer.inFeatures)
                    hessians[name] = InverseHessian(h, cols: layer.inFeatures)
                }
            }
            for (name, layer) in block.linears {
                let replacement = method.kind.binarize(layer as! DenseLinear, hessian: hessians[name],
                                                       workspace: workspace, rng: &rng)
                block.replace(name, with: replacement)
            }
        }
        return student
    }

    // MARK: Checkpoints

    /// Saves a student as its method stores it: signs and codes packed, scales,
    /// routers and the full-precision parts in 16 bits. The method's settings
    /// travel in the metadata as JSON under "binarization"; the router
    /// statistics of its training, if given, as tensors (`RouterHistory`).
    public static func save(_ student: TransformerModel, method: Method, to url: URL,
                            metadata extra: [String: String] = [:], routerHistory: RouterHistory? = nil) throws {
        var file = Safetensors(metadata: extra)
        file.metadata["format"] = TransformerModel.formatName
        file.metadata["config"] = String(decoding: try JSONEncoder.sorted.encode(student.config), as: UTF8.self)
        file.metadata["binarization"] = String(decoding: try JSONEncoder.sorted.encode(method), as: UTF8.self)
        file.metadata["method"] = method.name
        func half(_ p: Parameter) { file.add(p.name, .halves(p.value.array, shape: p.value.shape)) }
        half(student.embedding)
        for (l, block) in student.blocks.enumerated() {
            half(block.attentionNorm); half(block.mlpNorm)
            for (name, layer) in block.linears {
                for (tensor, entry) in storedTensors(layer, prefix: "layers.\(l).\(name).") { file.add(tensor, entry) }
            }
        }
        half(student.finalNorm)
        half(student.head.weight)
        if let routerHistory { for (name, entry) in routerHistory.tensors() { file.add(name, entry) } }
        try file.write(to: url)
    }

    static func storedTensors(_ layer: LinearLayer, prefix: String) -> [(name: String, entry: Safetensors.Entry)] {
        guard let stored = layer as? StoredLayer else { preconditionFailure("no stored form for \(type(of: layer))") }
        return stored.tensors(prefix: prefix)
    }

    /// Loads a student, or a full-precision teacher (method `fp`, float32).
    /// With `packed`, every layer that has a packed kernel is read straight
    /// into it (signs and codes as stored, no float copy), its activations
    /// rounded at that precision. Every problem is a one-line
    /// `FileError` naming the file.
    public static func load(from url: URL, packed: ActivationPrecision? = nil) throws
        -> (model: TransformerModel, method: Method, metadata: [String: String]) {
        let file = try Safetensors.read(from: url)
        guard let json = file.metadata["binarization"] else {
            let (model, metadata) = try TransformerModel.load(from: url)
            return (model, Method(FullPrecision()), metadata)
        }
        func fail(_ problem: String) -> FileError { FileError(path: url.path, problem: problem) }
        guard let method = try? JSONDecoder().decode(Method.self, from: Data(json.utf8)), method.problems.isEmpty else {
            throw fail("has unreadable binarization settings: \(json)")
        }
        guard let configJSON = file.metadata["config"],
              let config = try? JSONDecoder().decode(ModelConfig.self, from: Data(configJSON.utf8)) else {
            throw fail("has no readable model config in its metadata")
        }
        let problems = config.problems(readFrom: file)
        guard problems.isEmpty else { throw fail("has an invalid model config: " + problems.joined(separator: "; ")) }
        let model = TransformerModel(config: config, seed: 0)
        var expected: Set<String> = []
        func fill(_ p: Parameter) throws {
            let values = try file.floats(p.name, shape: p.value.shape)
            values.withUnsafeBufferPointer { p.value.data.update(from: $0.baseAddress!, count: p.value.count) }
            p.trainable = false
            expected.insert(p.name)
        }
        try fill(model.embedding); try fill(model.finalNorm); try fill(model.head.weight)
        let workspace = Workspace()
        for (l, block) in model.blocks.enumerated() {
            try fill(block.attentionNorm); try fill(block.mlpNorm)
            for (name, layer) in block.linears {
                let prefix = "layers.\(l).\(name).", (n, m) = (layer.outFeatures, layer.inFeatures)
                if let packed, let layer = try method.kind.loadPacked(file, prefix: prefix, rows: n, cols: m, precision: packed) {
                    block.replace(name, with: layer)
                    expected.formUnion(file.names.filter { $0.hasPrefix(prefix) })
                    continue
                }
                let loaded = try method.kind.load(file, prefix: prefix, rows: n, cols: m, workspace: workspace)
                block.replace(name, with: loaded)
                expected.formUnion(storedTensors(loaded, prefix: prefix).map(\.name))
            }
        }
        expected.formUnion(file.names.filter { $0.hasPrefix(RouterHistory.prefix) })
        if let extra = file.names.first(where: { !expected.contains($0) }) {
            throw fail("has tensor '\(extra)', which a \(method.name) model with this config does not have")
        }
        return (model, method, file.metadata)
    }

}
