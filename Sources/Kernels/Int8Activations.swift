// The packed kernels multiply bits or 2-bit codes by int8 activations, as
// bitnet.cpp and T-MAC do: each token's vector is scaled so its largest
// magnitude maps to 127 and rounded, q = round(a / s), s = max|a| / 127.
// The product is then exact in integers and scaled once per token at the
// end; the only approximation is this rounding of the activations.

/// A batch of tokens' activations as int8, each row zero-padded to `paddedCols`.
public final class Int8Activations {
    public let tokens: Int, cols: Int, paddedCols: Int
    public let values: UnsafeMutablePointer<Int8>     // [tokens, paddedCols]
    public let scales: UnsafeMutablePointer<Float>    // [tokens]: a ≈ scale · q

    public init(tokens: Int, cols: Int, padTo multiple: Int) {
        self.tokens = tokens; self.cols = cols
        paddedCols = (cols + multiple - 1) / multiple * multiple
        values = .allocate(capacity: max(1, tokens * paddedCols))
        values.initialize(repeating: 0, count: max(1, tokens * paddedCols))
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
        if reordered == nil { reordered = .allocate(capacity: max(1, tokens * paddedCols)) }
        return reordered!
    }

    /// Quantizes the first `count` rows of a [count, cols] (row-major floats) into this buffer.
    public func quantize(_ a: ConstFloatPointer, tokens count: Int) {
        precondition(count <= tokens)
        let (cols, padded) = (self.cols, paddedCols)
        parallelChunks(count, minimumChunk: 8) { range in
            for t in range {
                let row = a + t * cols, q = self.values + t * padded
                var largest: Float = 0
                for j in 0..<cols { largest = max(largest, abs(row[j])) }
                let scale = largest > 0 ? largest / 127 : 1
                let inverse = 1 / scale
                for j in 0..<cols { q[j] = Int8((row[j] * inverse).rounded()) }
                self.scales[t] = scale
            }
        }
    }
}
