import Randomness
import Foundation
import Kernels
import Transformer

/// What a binarization method is, in one place (as ggml's per-type traits
/// table says what each quantization type is): its name and settings, how it
/// turns a trained layer into its own, what that layer costs in storage, and
/// how it is read back from a checkpoint. Each method is one type, in its own
/// file under Methods/, and one line in `Method.registry`.
public protocol BinarizationMethod: Codable, Sendable {
    /// The name on the command line, in checkpoints and in sweep rows.
    static var name: String { get }
    /// What the method does, in one line (the commands' help).
    static var summary: String { get }
    /// The settings a command line sets, each also a sweep column.
    static var options: [MethodOption<Self>] { get }
    /// The paper's default settings.
    init()

    /// Problems with the settings, one line each.
    var problems: [String] { get }
    /// How the method is named in logs and tables ("mos E=4").
    var label: String { get }
    /// Trained by distillation after `binarize` (the others are post-training).
    var isTrained: Bool { get }
    /// Quantizes from calibration inputs: `binarize` is given the layer's inverse Hessian.
    var needsCalibration: Bool { get }

    /// The method's layer for one trained dense layer W [n, m]. `hessian` is
    /// there when `needsCalibration`; `rng` initialises what is random.
    func binarize(_ dense: DenseLinear, hessian: InverseHessian?, workspace: Workspace,
                  rng: inout SeededGenerator) -> LinearLayer
    /// Bits by part of one layer [n, m]: scales, routers and group parameters
    /// in `scaleBits`, full-precision weights in `fullPrecisionBits`.
    func storage(inFeatures m: Int, outFeatures n: Int, scaleBits: Int, fullPrecisionBits: Int) -> [String: Int]
    /// Reads the layer its `binarize` made back from the tensors under `prefix`.
    func load(_ file: Safetensors, prefix: String, rows: Int, cols: Int, workspace: Workspace) throws -> LinearLayer
    /// The layer for the packed kernels, read from the checkpoint (nil: the
    /// method has no packed kernel at this shape).
    func loadPacked(_ file: Safetensors, prefix: String, rows: Int, cols: Int,
                    precision: ActivationPrecision) throws -> LinearLayer?
}

public extension BinarizationMethod {
    var problems: [String] { [] }
    var isTrained: Bool { false }
    var needsCalibration: Bool { false }
    var label: String {
        ([Self.name] + Self.options.map { "\($0.name)=\($0.get(self))" }).joined(separator: " ")
    }
    /// By default the layer as `load` reads it, then packed (a code's float
    /// weight is never made on this path).
    func loadPacked(_ file: Safetensors, prefix: String, rows: Int, cols: Int,
                    precision: ActivationPrecision) throws -> LinearLayer? {
        try (load(file, prefix: prefix, rows: rows, cols: cols, workspace: Workspace()) as? StoredLayer)?
            .packed(precision: precision)
    }
}

/// A layer a checkpoint can hold: the tensors it is stored as, and its form
/// on the packed kernels where it has one.
public protocol StoredLayer: LinearLayer {
    /// The stored tensors, named under `prefix` (e.g. "layers.0.q.").
    func tensors(prefix: String) -> [(name: String, entry: Safetensors.Entry)]
    /// The same layer on the packed kernels, or nil where there is none.
    func packed(precision: ActivationPrecision) -> LinearLayer?
}

/// A layer on the packed kernels, and the bytes it holds in memory.
public protocol PackedLayer: LinearLayer {
    var byteCount: Int { get }
}

/// One setting of a method: its name on the command line (--NAME) and in
/// sweep columns, its help, and how it is read and written as text.
public struct MethodOption<M>: @unchecked Sendable {
    public let name: String
    public let help: String
    public let get: (M) -> String
    /// Sets the value from text; false when the text is not a value.
    public let set: (inout M, String) -> Bool

    public init<V: LosslessStringConvertible>(_ name: String, _ path: WritableKeyPath<M, V>, help: String) {
        self.name = name; self.help = help
        get = { "\($0[keyPath: path])" }
        set = { method, text in
            guard let v = V(text) else { return false }
            method[keyPath: path] = v
            return true
        }
    }

    public init<V: RawRepresentable>(_ name: String, _ path: WritableKeyPath<M, V>, help: String) where V.RawValue == String {
        self.name = name; self.help = help
        get = { $0[keyPath: path].rawValue }
        set = { method, text in
            guard let v = V(rawValue: text) else { return false }
            method[keyPath: path] = v
            return true
        }
    }
}

/// A method with its settings, whichever it is: what commands, sweeps and
/// checkpoints pass around. In JSON it is the method's own settings plus its
/// name, e.g. {"experts":4,"name":"mos"}.
public struct Method: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Every method, in the order help and sweep columns list them.
    public static let registry: [any BinarizationMethod.Type] = [
        FullPrecision.self, SignWithScale.self, OneBit.self, BinaryMoS.self, PBLLM.self, BiLLM.self, ARB.self, BTC.self,
        RoundToNearest.self, GPTQ.self,
    ]

    public private(set) var kind: any BinarizationMethod

    public init(_ kind: any BinarizationMethod) { self.kind = kind }

    /// The method of that name with its default settings.
    public init?(named name: String) {
        guard let type = Self.registry.first(where: { $0.name == name }) else { return nil }
        kind = type.init()
    }

    public static var names: [String] { registry.map { $0.name } }

    public var name: String { type(of: kind).name }
    public var description: String { kind.label }
    public var problems: [String] { kind.problems }
    public var isTrained: Bool { kind.isTrained }
    public var needsCalibration: Bool { kind.needsCalibration }
    /// A seed changes the result (distillation, or calibration data); the
    /// others are one deterministic function of the teacher, run once.
    public var dependsOnSeed: Bool { isTrained || needsCalibration }

    /// The method's settings as (option, value) text, in its options' order.
    public var settings: [(name: String, value: String)] { Self.settings(of: kind) }

    private static func settings<M: BinarizationMethod>(of kind: M) -> [(name: String, value: String)] {
        M.options.map { ($0.name, $0.get(kind)) }
    }

    /// Sets option `name` from text; a one-line error names what is wrong.
    public mutating func set(_ name: String, to text: String) throws {
        func apply<M: BinarizationMethod>(_ kind: M) throws -> M {
            guard let option = M.options.first(where: { $0.name == name }) else {
                throw MethodError("\(M.name) has no option --\(name)"
                                  + (M.options.isEmpty ? "" : "; its options: " + M.options.map { "--" + $0.name }.joined(separator: ", ")))
            }
            var k = kind
            guard option.set(&k, text) else { throw MethodError("--\(name) '\(text)' is not a value for \(M.name)") }
            return k
        }
        kind = try apply(kind)
    }

    /// Every option name any method has, in registry order: the sweep CSV's setting columns.
    public static var settingColumns: [String] {
        var seen: [String] = []
        for type in registry { for (name, _) in Method(type.init()).settings where !seen.contains(name) { seen.append(name) } }
        return seen
    }

    /// Help for every method and its options, generated from the registry.
    public static var help: String {
        registry.map { help(for: $0) }.joined(separator: "\n")
    }

    private static func help<M: BinarizationMethod>(for type: M.Type) -> String {
        let defaults = M()
        var lines = ["\(M.name): \(M.summary)"]
        for o in M.options { lines.append("    --\(o.name) (default \(o.get(defaults))): \(o.help)") }
        return lines.joined(separator: "\n")
    }

    // MARK: Codable and Equatable

    private enum Key: String, CodingKey { case name }

    public init(from decoder: Swift.Decoder) throws {
        let name = try decoder.container(keyedBy: Key.self).decode(String.self, forKey: .name)
        guard let type = Self.registry.first(where: { $0.name == name }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [Key.name], debugDescription: "unknown method '\(name)'"))
        }
        kind = try type.init(from: decoder)
    }

    public func encode(to encoder: Swift.Encoder) throws {
        try kind.encode(to: encoder)
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(name, forKey: .name)
    }

    public static func == (a: Method, b: Method) -> Bool {
        a.name == b.name && a.settings.map(\.value) == b.settings.map(\.value)
    }
}

public struct MethodError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
