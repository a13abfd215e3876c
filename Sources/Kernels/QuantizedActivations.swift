import CKernels

// The packed kernels multiply bits or 2-bit codes by int8 activations, as
// bitnet.cpp and T-MAC do: each token's vector is scaled so its largest
// magnitude maps to 127 and rounded, hi = round(a / s), s = max|a| / 127.
// The product is then exact in integers and scaled once per token at the
// end; the only approximation is this rounding of the activations.
//
// One plane of int8 leaves every activation up to half a step of max|a| / 127
// off, and a model amplifies it: on our students, perplexity moves by up to
// 0.2 %. A second plane rounds what the first left over,
// lo = round((a / s − hi) · 254), so a ≈ (s / 254) · (254 · hi + lo): 16 bits.
// The kernels read each weight once for both planes and join the planes' sums
// in integers, so the second plane costs arithmetic, not memory traffic.

/// How finely the packed kernels round activations.
public enum ActivationPrecision: String, CaseIterable, Sendable {
    case int8     // one plane: what bitnet.cpp and T-MAC do, and the fastest
    case int16    // two planes, hi · 254 + lo: the default, matching the float path

    public var planes: Int { self == .int8 ? 1 : 2 }
}

/// A batch of tokens' activations rounded to integers: one int8 plane (int8
/// precision) or two (int16), each zero-padded to `paddedCols`.
public final class QuantizedActivations {
    public let tokens: Int, cols: Int, paddedCols: Int
    public let planes: Int
    public let values: UnsafeMutablePointer<Int8>     // [tokens, planes, paddedCols]
    public let scales: UnsafeMutablePointer<Float>    // [tokens]: a ≈ scale · value (see ckernels.h)

    public init(tokens: Int, cols: Int, padTo multiple: Int, precision: ActivationPrecision = .int16) {
        self.tokens = tokens; self.cols = cols; planes = precision.planes
        paddedCols = (cols + multiple - 1) / multiple * multiple
        values = .allocate(capacity: max(1, tokens * planes * paddedCols))
        values.initialize(repeating: 0, count: max(1, tokens * planes * paddedCols))
        scales = .allocate(capacity: max(1, tokens))
        scales.initialize(repeating: 0, count: max(1, tokens))
    }

    deinit { values.deallocate(); scales.deallocate(); sums?.deallocate(); reordered?.deallocate() }

    // Kernel outputs and reordered activations, kept between calls so that the
    // per-layer hot path allocates nothing.
    private var sums: UnsafeMutablePointer<Int32>?, sumCapacity = 0
    private var reordered: UnsafeMutablePointer<Int8>?

    /// An int32 buffer of at least `count` entries (contents undefined).
    func integerSums(_ count: Int) -> UnsafeMutablePointer<Int32> {
        if count > sumCapacity {
            sums?.deallocate()
            sums = .allocate(capacity: count)
            sumCapacity = count
        }
        return sums!
    }

    /// A second buffer shaped like `values` (the int2 kernel's column order).
    var reorderedValues: UnsafeMutablePointer<Int8> {
        if reordered == nil { reordered = .allocate(capacity: max(1, tokens * planes * paddedCols)) }
        return reordered!
    }

    /// Token t's activation j as the kernels see it, in units of `scales[t]`.
    public func value(_ t: Int, _ j: Int) -> Int32 {
        let q = values + t * planes * paddedCols + j
        return planes == 1 ? Int32(q[0]) : Int32(q[0]) * Int32(CK_LO_STEPS) + Int32(q[paddedCols])
    }

    /// Quantizes the first `count` rows of a [count, cols] (row-major floats) into this buffer.
    public func quantize(_ a: ConstFloatPointer, tokens count: Int) {
        precondition(count <= tokens)
        parallelChunks(count, minimumChunk: 8) { range in
            for t in range {
                let row = a + t * cols, hi = self.values + t * self.planes * self.paddedCols
                let largest = ck_largest_magnitude(row, Int32(self.cols))
                let scale = largest > 0 ? largest / 127 : 1
                ck_quantize(row, Int32(self.cols), 1 / scale, hi, self.planes == 2 ? hi + self.paddedCols : nil)
                self.scales[t] = self.planes == 2 ? scale / Float(CK_LO_STEPS) : scale
            }
        }
    }
}
