import Foundation
import Kernels
import Corpus
import Transformer

/// A binarized copy of a teacher: the same embedding, norms and head (frozen,
/// kept in full precision), and every linear layer of every block replaced by
/// the method's layer. Post-training methods are finished here; trained ones
/// (OneBit, BinaryMoS) come back initialised from the teacher, ready for `distill`.
public enum Student {
    /// Calibration for the methods that need inputs (GPTQ, PB-LLM with Hessian
    /// saliency or compensation): `windows` training windows, chosen by `seed`.
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
                let dense = layer as! DenseLinear
                let replacement = binarize(dense, method, hessian: hessians[name], workspace: workspace, rng: &rng)
                block.replace(name, with: replacement)
            }
        }
        return student
    }

    /// The method's layer for one trained dense layer.
    static func binarize(_ dense: DenseLinear, _ method: Method, hessian: InverseHessian?, workspace: Workspace,
                         rng: inout SeededGenerator) -> LinearLayer {
        let w = dense.weight.value.pointer, (n, m) = (dense.outFeatures, dense.inFeatures)
        switch method.name {
        case .fp:
            let layer = DenseLinear(name: String(dense.weight.name.dropLast(".weight".count)), inFeatures: m, outFeatures: n)
            layer.weight.value.copy(from: dense.weight.value)
            layer.weight.trainable = false
            return layer
        case .sign:
            return QuantizedLinear(SignCode(w, rows: n, cols: m))
        case .onebit, .mos:
            return MixtureOfScalesLinear(initializingFrom: dense, experts: method.expertCount, workspace: workspace, rng: &rng)
        case .rtn:
            return QuantizedLinear(GroupCode(roundingToNearest: w, rows: n, cols: m, bits: method.bits,
                                             groupSize: method.groupSize))
        case .gptq:
            return QuantizedLinear(GroupCode(gptq: w, rows: n, cols: m, bits: method.bits, groupSize: method.groupSize,
                                             hessian: hessian!))
        case .pbllm:
            return QuantizedLinear(PartialBinaryCode(w, rows: n, cols: m, ratio: method.salientRatio,
                                                     saliency: method.saliency, hessian: hessian,
                                                     compensation: method.compensation))
        }
    }

    // MARK: Checkpoints

    /// Saves a student as its method stores it: signs and codes packed, scales,
    /// routers and the full-precision parts in 16 bits. The method's settings
    /// travel in the metadata as JSON under "binarization".
    public static func save(_ student: TransformerModel, method: Method, to url: URL,
                            metadata extra: [String: String] = [:]) throws {
        var file = Safetensors(metadata: extra)
        file.metadata["format"] = TransformerModel.formatName
        file.metadata["config"] = String(decoding: try JSONEncoder.sortedKeys.encode(student.config), as: UTF8.self)
        file.metadata["binarization"] = String(decoding: try JSONEncoder.sortedKeys.encode(method), as: UTF8.self)
        file.metadata["method"] = method.name.rawValue
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
        try file.write(to: url)
    }

    static func storedTensors(_ layer: LinearLayer, prefix: String) -> [(name: String, entry: Safetensors.Entry)] {
        switch layer {
        case let q as QuantizedLinear:
            return q.code.tensors(prefix: prefix)
        case let b as MixtureOfScalesLinear:
            var t: [(name: String, entry: Safetensors.Entry)] = [
                (prefix + "signs", .bytes(packSigns(b.latent.value.pointer, count: b.latent.value.count))),
                (prefix + "input_scale", .halves(b.inputScale.value.array, shape: b.inputScale.value.shape)),
                (prefix + "output_scale", .halves(b.outputScale.value.array, shape: b.outputScale.value.shape))]
            if let router = b.router { t.append((prefix + "router", .halves(router.value.array, shape: router.value.shape))) }
            return t
        case let d as DenseLinear:
            return [(prefix + "weight", .halves(d.weight.value.array, shape: d.weight.value.shape))]
        default:
            preconditionFailure("no stored form for \(type(of: layer))")
        }
    }

    /// Loads a student, or a full-precision teacher (method `fp`, float32).
    /// Every problem is a one-line `SafetensorsError` naming the file.
    public static func load(from url: URL) throws -> (model: TransformerModel, method: Method, metadata: [String: String]) {
        let file = try Safetensors.read(from: url)
        guard let json = file.metadata["binarization"] else {
            let (model, metadata) = try TransformerModel.load(from: url)
            return (model, Method(.fp), metadata)
        }
        func fail(_ problem: String) -> SafetensorsError { SafetensorsError(path: url.path, problem: problem) }
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
                let loaded = try loadLayer(file, prefix: prefix, method: method, rows: n, cols: m, workspace: workspace)
                block.replace(name, with: loaded)
                expected.formUnion(storedTensors(loaded, prefix: prefix).map(\.name))
            }
        }
        if let extra = file.names.first(where: { !expected.contains($0) }) {
            throw fail("has tensor '\(extra)', which a \(method.name.rawValue) model with this config does not have")
        }
        return (model, method, file.metadata)
    }

    static func loadLayer(_ file: Safetensors, prefix: String, method: Method, rows n: Int, cols m: Int,
                          workspace: Workspace) throws -> LinearLayer {
        switch method.name {
        case .fp:
            let layer = DenseLinear(name: String(prefix.dropLast()), inFeatures: m, outFeatures: n)
            let values = try file.floats(prefix + "weight", shape: [n, m])
            values.withUnsafeBufferPointer { layer.weight.value.data.update(from: $0.baseAddress!, count: n * m) }
            layer.weight.trainable = false
            return layer
        case .sign:
            return QuantizedLinear(try SignCode.load(file, prefix: prefix, rows: n, cols: m))
        case .rtn, .gptq:
            return QuantizedLinear(try GroupCode.load(file, prefix: prefix, rows: n, cols: m, bits: method.bits,
                                                      groupSize: method.groupSize))
        case .pbllm:
            return QuantizedLinear(try PartialBinaryCode.load(file, prefix: prefix, rows: n, cols: m,
                                                              ratio: method.salientRatio))
        case .onebit, .mos:
            let e = method.expertCount
            let layer = MixtureOfScalesLinear(name: String(prefix.dropLast()), inFeatures: m, outFeatures: n,
                                              experts: e, workspace: workspace)
            let signs = unpackSigns(try file.bytes(prefix + "signs", count: (n * m + 7) / 8), count: n * m)
            signs.withUnsafeBufferPointer { layer.latent.value.data.update(from: $0.baseAddress!, count: n * m) }
            for (p, tensor) in [(layer.inputScale, "input_scale"), (layer.outputScale, "output_scale")]
                + (layer.router.map { [($0, "router")] } ?? []) {
                let values = try file.halves(prefix + tensor, shape: p.value.shape)
                values.withUnsafeBufferPointer { p.value.data.update(from: $0.baseAddress!, count: p.value.count) }
            }
            for p in layer.parameters { p.trainable = false }
            return layer
        }
    }
}

extension JSONEncoder {
    static var sortedKeys: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
