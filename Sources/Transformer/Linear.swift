import Randomness
import Kernels
import Corpus

/// A linear layer inside a decoder block, y = f(x) with x [rows, in] and
/// y [rows, out]. Full precision here; the binarization methods provide other
/// conformances (sign, OneBit, BinaryMoS, ...), so the model never needs to
/// know which one it runs.
public protocol LinearLayer: AnyObject {
    var inFeatures: Int { get }
    var outFeatures: Int { get }
    var parameters: [Parameter] { get }
    /// y[rows, out] = layer(x[rows, in]). May keep what backward needs.
    func forward(_ y: FloatPointer, _ x: ConstFloatPointer, rows: Int)
    /// Given dy and the same x as forward: dx (+)= ∂L/∂x, parameter grads += ∂L/∂θ.
    func backward(_ dx: FloatPointer, _ dy: ConstFloatPointer, _ x: ConstFloatPointer, rows: Int,
                  accumulate: Bool)
}

/// The full-precision layer, y = x·Wᵀ, weight W [out, in].
public final class DenseLinear: LinearLayer {
    public let weight: Parameter
    public var inFeatures: Int { weight.value.shape[1] }
    public var outFeatures: Int { weight.value.shape[0] }
    public var parameters: [Parameter] { [weight] }

    public init(name: String, inFeatures: Int, outFeatures: Int) {
        weight = Parameter(name + ".weight", [outFeatures, inFeatures], decays: true)
    }

    /// Normal(0, std) initialisation.
    public func initialize(std: Float, rng: inout SeededGenerator) {
        for i in 0..<weight.value.count { weight.value[i] = rng.normal() * std }
    }

    public func forward(_ y: FloatPointer, _ x: ConstFloatPointer, rows: Int) {
        matmulForward(y, x, weight.value.pointer, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
    }

    public func backward(_ dx: FloatPointer, _ dy: ConstFloatPointer, _ x: ConstFloatPointer, rows: Int,
                         accumulate: Bool) {
        if weight.trainable {
            matmulBackwardWeight(weight.grad.data, dy, x, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
        }
        matmulBackwardInput(dx, dy, weight.value.pointer, rows: rows, inFeatures: inFeatures,
                            outFeatures: outFeatures, accumulate: accumulate)
    }
}
