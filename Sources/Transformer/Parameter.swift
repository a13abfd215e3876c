import Kernels

/// A trainable tensor, its gradient, and the name it is saved under.
public final class Parameter {
    public let name: String
    public let value: Tensor
    public let grad: Tensor
    /// Frozen parameters keep their gradient at zero and are skipped by the optimizer.
    public var trainable = true
    /// Weight decay applies to matrices, not to norms' gains.
    public var decays: Bool

    public init(_ name: String, _ shape: [Int], decays: Bool) {
        self.name = name
        value = Tensor(shape)
        grad = Tensor(shape)
        self.decays = decays
    }
}
