import Kernels
import Randomness
import Transformer

// BTC-LLM's learned transformation before binarization (Gu et al., 2025), as
// built here: an orthogonal rotation R of a layer's inputs, so that
//
//     y = W x = (W R)(Rᵀ x)
//
// and the codebook encodes the rows of W R, whose signs repeat more, in place
// of W's. In row-vector form each token is rotated once, x ← x R, before the
// binary product. R is the Kronecker product R₁ ⊗ R₂ of two small rotations
// (m = k₁·k₂, k₁ ≤ k₂ as near √m as m allows), as FlatQuant builds its
// transformations: a row v of m values, read as a k₁ × k₂ matrix V, becomes
// R₁ᵀ V R₂, which costs m (k₁ + k₂) multiply-adds instead of m², and R is
// stored as k₁² + k₂² numbers of 16 bits instead of m².
//
// R is learned as iterative quantization learns its rotation (Gong and
// Lazebnik, 2011): encode W R into T; with T fixed, each factor in turn takes
// the Procrustes solution of min ‖W R − T‖ (exact, the other factor fixed);
// encode again; keep the round only while the encoding error falls. The
// paper's transformation also scales the inputs; a diagonal scale after R is
// what the codebook's S_in already is, and one before R is not learned here.

/// An orthogonal rotation R = R₁ ⊗ R₂ of a layer's m inputs.
public struct KroneckerRotation: Equatable, Sendable {
    public let k1: Int, k2: Int
    public var left: [Float]              // R₁ [k1, k1]
    public var right: [Float]             // R₂ [k2, k2]
    public var size: Int { k1 * k2 }

    /// The identity on m inputs, with the factors' sizes this type always uses for m.
    public init(identity m: Int) {
        precondition(m > 0)
        k1 = (1...Int(Double(m).squareRoot())).last { m % $0 == 0 }!
        k2 = m / k1
        left = Self.identity(k1); right = Self.identity(k2)
    }

    public init(k1: Int, k2: Int, left: [Float], right: [Float]) {
        precondition(left.count == k1 * k1 && right.count == k2 * k2)
        self.k1 = k1; self.k2 = k2; self.left = left; self.right = right
    }

    /// A random rotation on m inputs: the orthogonal factors of Gaussian matrices.
    public static func random(_ m: Int, using rng: inout SeededGenerator) -> KroneckerRotation {
        let shape = KroneckerRotation(identity: m)
        func factor(_ k: Int) -> [Float] {
            procrustesRotation((0..<(k * k)).map { _ in Double(rng.normal()) }, n: k)!.map(Float.init)
        }
        return KroneckerRotation(k1: shape.k1, k2: shape.k2, left: factor(shape.k1), right: factor(shape.k2))
    }

    static func identity(_ k: Int) -> [Float] { (0..<(k * k)).map { $0 / k == $0 % k ? 1 : 0 } }

    /// The factors as they come back from 16-bit storage.
    public var roundedToHalf: KroneckerRotation {
        KroneckerRotation(k1: k1, k2: k2, left: Binarization.roundedToHalf(left), right: Binarization.roundedToHalf(right))
    }

    // region: rotation
    /// out[rows, m] = x[rows, m] · R, or · Rᵀ when `transposed`: each row as
    /// a k₁ × k₂ matrix V becomes R₁ᵀ V R₂ (R₁ V R₂ᵀ). `out` must not be `x`.
    public func apply(_ out: FloatPointer, _ x: ConstFloatPointer, rows: Int, transposed: Bool = false) {
        let (k1, k2) = (self.k1, self.k2)
        left.withUnsafeBufferPointer { r1 in right.withUnsafeBufferPointer { r2 in
            let (r1, r2) = (r1.baseAddress!, r2.baseAddress!)
            parallelChunks(rows, minimumChunk: 16) { chunk in
                let z = FloatPointer.allocate(capacity: k1 * k2)
                defer { z.deallocate() }
                for r in chunk {
                    // Z = V R₂ (V R₂ᵀ), then R₁ᵀ Z (R₁ Z).
                    sgemm(transA: false, transB: transposed, k1, k2, k2, x + r * k1 * k2, lda: k2, r2, ldb: k2,
                          beta: 0, z, ldc: k2)
                    sgemm(transA: !transposed, transB: false, k1, k2, k1, r1, lda: k1, z, ldb: k2,
                          beta: 0, out + r * k1 * k2, ldc: k2)
                }
            }
        } }
    }
    // end region: rotation

    /// The rows of `x` rotated, as a new array.
    public func applied(_ x: [Float], rows: Int, transposed: Bool = false) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { apply($0.baseAddress!, x.baseAddress!, rows: rows, transposed: transposed) } }
        return out
    }

    /// Naive reference: R as a full m × m matrix, R[a·k₂ + c, b·k₂ + d] = R₁[a, b] · R₂[c, d].
    public var matrix: [Float] {
        let m = size
        var r = [Float](repeating: 0, count: m * m)
        for a in 0..<k1 { for b in 0..<k1 { for c in 0..<k2 { for d in 0..<k2 {
            r[(a * k2 + c) * m + b * k2 + d] = left[a * k1 + b] * right[c * k2 + d]
        } } } }
        return r
    }

    // region: learning
    /// Learns R for the rows of w [n, m] and an encoder that returns, for a
    /// rotated weight, the weights its code stands for (same shape and basis).
    /// Returns R and the squared error ‖W R − T‖² before the first round and
    /// after each kept one (falling).
    public static func learned(_ w: ConstFloatPointer, rows n: Int, cols m: Int, rounds: Int,
                               encode: ([Float]) -> [Float]) -> (rotation: KroneckerRotation, errors: [Double]) {
        let weight = Array(UnsafeBufferPointer(start: w, count: n * m))
        var rotation = KroneckerRotation(identity: m)
        var target = encode(weight)
        var errors = [squaredDistance(weight, target)]
        for _ in 0..<rounds {
            var next = rotation
            let (k1, k2) = (next.k1, next.k2)
            // R₁ maximises tr(R₁ᵀ Σ_r V_r R₂ T_rᵀ), R₂ given R₁ maximises tr(R₂ᵀ Σ_r V_rᵀ R₁ T_r).
            let rightOnly = KroneckerRotation(k1: k1, k2: k2, left: identity(k1), right: next.right).applied(weight, rows: n)
            guard let r1 = procrustesRotation(productSum(rightOnly, target, rows: n, k1, k2, transposeFirst: false), n: k1)
            else { break }
            next.left = r1.map(Float.init)
            let leftOnly = KroneckerRotation(k1: k1, k2: k2, left: next.left, right: identity(k2)).applied(target, rows: n, transposed: true)
            guard let r2 = procrustesRotation(productSum(weight, leftOnly, rows: n, k1, k2, transposeFirst: true), n: k2)
            else { break }
            next.right = r2.map(Float.init)
            let nextRotated = next.applied(weight, rows: n), nextTarget = encode(nextRotated)
            let error = squaredDistance(nextRotated, nextTarget)
            guard error < errors.last! else { break }
            (rotation, target) = (next, nextTarget)
            errors.append(error)
        }
        return (rotation, errors)
    }
    // end region: learning

    /// Σ_r A_r B_rᵀ [k1, k1] (or, `transposeFirst`, Σ_r A_rᵀ B_r [k2, k2]) over
    /// the rows of a and b, each read as a k1 × k2 matrix; in Double.
    static func productSum(_ a: [Float], _ b: [Float], rows n: Int, _ k1: Int, _ k2: Int, transposeFirst: Bool) -> [Double] {
        let k = transposeFirst ? k2 : k1
        var c = [Double](repeating: 0, count: k * k)
        for r in 0..<n {
            let base = r * k1 * k2
            for i in 0..<k { for j in 0..<k {
                var sum = 0.0
                if transposeFirst {
                    for t in 0..<k1 { sum += Double(a[base + t * k2 + i]) * Double(b[base + t * k2 + j]) }
                } else {
                    for t in 0..<k2 { sum += Double(a[base + i * k2 + t]) * Double(b[base + j * k2 + t]) }
                }
                c[i * k + j] += sum
            } }
        }
        return c
    }
}

func squaredDistance(_ a: [Float], _ b: [Float]) -> Double {
    zip(a, b).reduce(0) { let d = Double($1.0) - Double($1.1); return $0 + d * d }
}

/// A layer that sees its inputs rotated, y = inner(x R); backward passes the
/// gradient back through the rotation, ∂x = ∂(x R) · Rᵀ. On the packed
/// kernels it is the rotation applied once per token before the product.
public final class RotatedInputLinear: PackedLayer {
    public let rotation: KroneckerRotation
    public let inner: LinearLayer
    private var rotated = Tensor([0]), gradient = Tensor([0]), back = Tensor([0])   // x R (kept), ∂(x R), ∂x
    public var inFeatures: Int { inner.inFeatures }
    public var outFeatures: Int { inner.outFeatures }
    public var parameters: [Parameter] { inner.parameters }
    /// The inner packed layer's bytes and the two factors in Float.
    public var byteCount: Int { ((inner as? PackedLayer)?.byteCount ?? 0) + 4 * (rotation.left.count + rotation.right.count) }

    public init(_ inner: LinearLayer, rotation: KroneckerRotation) {
        precondition(rotation.size == inner.inFeatures)
        self.inner = inner; self.rotation = rotation
    }

    private func reserve(_ rows: Int) {
        guard rotated.count < rows * inFeatures else { return }
        (rotated, gradient, back) = (Tensor([rows, inFeatures]), Tensor([rows, inFeatures]), Tensor([rows, inFeatures]))
    }

    public func forward(_ y: FloatPointer, _ x: ConstFloatPointer, rows: Int) {
        reserve(rows)
        rotation.apply(rotated.data, x, rows: rows)
        inner.forward(y, rotated.pointer, rows: rows)
    }

    /// Takes x R from the forward pass with the same x, as the inner layers keep their own.
    public func backward(_ dx: FloatPointer, _ dy: ConstFloatPointer, _ x: ConstFloatPointer, rows: Int, accumulate: Bool) {
        precondition(rotated.count >= rows * inFeatures, "backward without a matching forward")
        inner.backward(gradient.data, dy, rotated.pointer, rows: rows, accumulate: false)
        if !accumulate { return rotation.apply(dx, gradient.pointer, rows: rows, transposed: true) }
        rotation.apply(back.data, gradient.pointer, rows: rows, transposed: true)
        add(dx, back.pointer, count: rows * inFeatures)
    }
}
