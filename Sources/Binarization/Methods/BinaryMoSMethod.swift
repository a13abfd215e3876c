import Randomness
import Kernels
import Transformer

/// BinaryMoS: sign(W) between input and output scales mixed per token from E
/// scaling experts by a router (the layer is MixtureOfScales.swift), trained by
/// distillation from the teacher.
public struct BinaryMoS: BinarizationMethod {
    public static let name = "mos"
    public static let summary = "BinaryMoS: sign(W) with E scaling experts mixed per token by a router; distilled"
    public static let options = [MethodOption<BinaryMoS>("experts", \.experts, help: "scaling experts E (1 is OneBit's layer)")]

    public var experts = 4
    public init() {}
    public init(experts: Int) { self.experts = experts }

    public var label: String { "mos E=\(experts)" }
    public var isTrained: Bool { true }
    public var problems: [String] { (1...64).contains(experts) ? [] : ["--experts must be between 1 and 64"] }

    public func binarize(_ dense: DenseLinear, hessian: InverseHessian?, workspace: Workspace,
                         rng: inout SeededGenerator) -> LinearLayer {
        MixtureOfScalesLinear(initializingFrom: dense, experts: experts, workspace: workspace, rng: &rng)
    }

    // region: storage
    /// n·m sign bits, E·(m + n) scales, and E·m router weights when E > 1.
    public func storage(inFeatures m: Int, outFeatures n: Int, scaleBits s: Int, fullPrecisionBits: Int) -> [String: Int] {
        var parts = ["signs": n * m, "scales": s * experts * (m + n)]
        if experts > 1 { parts["router"] = s * experts * m }
        return parts
    }
    // end region: storage

    public func load(_ file: Safetensors, prefix: String, rows n: Int, cols m: Int, workspace: Workspace) throws -> LinearLayer {
        let layer = MixtureOfScalesLinear(name: String(prefix.dropLast()), inFeatures: m, outFeatures: n,
                                          experts: experts, workspace: workspace)
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

    /// Sign bits as stored are the kernel's; scales and router stay 16-bit.
    public func loadPacked(_ file: Safetensors, prefix: String, rows n: Int, cols m: Int,
                           precision: ActivationPrecision) throws -> LinearLayer? {
        let signs = try PackedSigns(stored: file.bytes(prefix + "signs", count: (n * m + 7) / 8), rows: n, cols: m)
        return PackedBinaryLinear(PackedMixtureOfScales(
            signs: signs, experts: experts,
            router: experts > 1 ? try file.halves(prefix + "router", shape: [experts, m]) : nil,
            inputScale: try file.halves(prefix + "input_scale", shape: [experts, m]),
            outputScale: try file.halves(prefix + "output_scale", shape: [experts, n])), precision: precision)
    }
}

/// OneBit: BinaryMoS's layer with one expert, so static input and output
/// scales, trained by the same distillation.
public struct OneBit: BinarizationMethod {
    public static let name = "onebit"
    public static let summary = "OneBit: sign(W) with static input and output scales (BinaryMoS with one expert); distilled"
    public static let options: [MethodOption<OneBit>] = []
    public init() {}

    static let layer = BinaryMoS(experts: 1)
    public var isTrained: Bool { true }

    public func binarize(_ dense: DenseLinear, hessian: InverseHessian?, workspace: Workspace,
                         rng: inout SeededGenerator) -> LinearLayer {
        Self.layer.binarize(dense, hessian: hessian, workspace: workspace, rng: &rng)
    }
    public func storage(inFeatures m: Int, outFeatures n: Int, scaleBits: Int, fullPrecisionBits: Int) -> [String: Int] {
        Self.layer.storage(inFeatures: m, outFeatures: n, scaleBits: scaleBits, fullPrecisionBits: fullPrecisionBits)
    }
    public func load(_ file: Safetensors, prefix: String, rows: Int, cols: Int, workspace: Workspace) throws -> LinearLayer {
        try Self.layer.load(file, prefix: prefix, rows: rows, cols: cols, workspace: workspace)
    }
    public func loadPacked(_ file: Safetensors, prefix: String, rows: Int, cols: Int,
                           precision: ActivationPrecision) throws -> LinearLayer? {
        try Self.layer.loadPacked(file, prefix: prefix, rows: rows, cols: cols, precision: precision)
    }
}

extension MixtureOfScalesLinear: StoredLayer {
    public func tensors(prefix: String) -> [(name: String, entry: Safetensors.Entry)] {
        var t: [(name: String, entry: Safetensors.Entry)] = [
            (prefix + "signs", .bytes(packSigns(latent.value.pointer, count: latent.value.count))),
            (prefix + "input_scale", .halves(inputScale.value.array, shape: inputScale.value.shape)),
            (prefix + "output_scale", .halves(outputScale.value.array, shape: outputScale.value.shape))]
        if let router { t.append((prefix + "router", .halves(router.value.array, shape: router.value.shape))) }
        return t
    }

    public func packed(precision: ActivationPrecision) -> LinearLayer? {
        let signs = PackedSigns(latent.value.pointer, rows: outFeatures, cols: inFeatures)
        return PackedBinaryLinear(PackedMixtureOfScales(
            signs: signs, experts: experts, router: router?.value.array, inputScale: inputScale.value.array,
            outputScale: outputScale.value.array), precision: precision)
    }
}
