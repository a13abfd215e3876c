import Files
import Kernels
import Transformer

// BTC-LLM's binary codebook (Gu et al., 2025), below one bit a weight. The
// signs of each row are cut into sub-vectors of v bits; the layer's
// sub-vectors are clustered into K = 2^b binary centroids (k-means in Hamming
// distance, each centroid bit the majority vote of its members), and each
// sub-vector is stored as its centroid's b-bit index: b / v bits a weight.
// The scales are OneBit's (the rank-1 fit of |W|):
//
//     w_rj ≈ S_out[r] · c(r, j) · S_in[j],   c(r, j) = bit j mod v of centroid index(r, ⌊j / v⌋)
//
// Stored: n·⌈m/v⌉ indices of b bits, the codebook (K·v bits) and the scales
// (16 bits each, n + m). With BTC's learned transformation the code encodes
// W R for a learned rotation R of the inputs (KroneckerRotation.swift), and
// stores R's two factors as well.

/// A layer's signs as codebook indices, with OneBit's scales.
public struct CodebookCode: WeightCode {
    public let rows: Int, cols: Int, vector: Int, indexBits: Int
    public var indices: [Int]             // [rows, ⌈cols / vector⌉]
    public var codebook: [UInt32]         // [K]: bit t = sign of position t (1: +1)
    public var outputScale: [Float], inputScale: [Float]
    /// The rotation the code's weights are in (W ≈ code · Rᵀ), if learned.
    public var rotation: KroneckerRotation?

    public var chunks: Int { (cols + vector - 1) / vector }
    public var centroids: Int { 1 << indexBits }

    /// Clusters sign(W)'s sub-vectors; `iterations` rounds of k-means at most.
    public init(_ w: ConstFloatPointer, rows n: Int, cols m: Int, vector v: Int, indexBits b: Int, iterations: Int = 10) {
        precondition((1...24).contains(v) && (1...24).contains(b))
        rows = n; cols = m; vector = v; indexBits = b
        let scales = RankOneScales(absoluteOf: w, rows: n, cols: m)
        outputScale = roundedToHalf(scales.outputScale); inputScale = roundedToHalf(scales.inputScale)
        let chunks = (m + v - 1) / v
        // Each sub-vector as bits, and the mask of the columns it covers (the last one of a row may be short).
        var patterns = [UInt32](repeating: 0, count: n * chunks), masks = patterns
        for r in 0..<n {
            for c in 0..<chunks {
                for t in 0..<min(v, m - c * v) {
                    masks[r * chunks + c] |= 1 << UInt32(t)
                    if w[r * m + c * v + t] >= 0 { patterns[r * chunks + c] |= 1 << UInt32(t) }
                }
            }
        }
        // Start from the most frequent patterns (ties by value, so the result is reproducible).
        var counts: [UInt32: Int] = [:]
        for p in patterns { counts[p, default: 0] += 1 }
        var book = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(1 << b).map(\.key)
        while book.count < 1 << b { book.append(book.last ?? 0) }
        var assignment = [Int](repeating: -1, count: patterns.count)
        // region: k-means
        // Assign, then update the centroids, and so on; the last step is an assignment.
        for round in 0...iterations {
            var changed = false
            for i in patterns.indices {
                var best = 0, distance = Int.max
                for (k, centroid) in book.enumerated() {
                    let d = ((patterns[i] ^ centroid) & masks[i]).nonzeroBitCount
                    if d < distance { (best, distance) = (k, d) }
                    if d == 0 { break }
                }
                if assignment[i] != best { assignment[i] = best; changed = true }
            }
            guard changed && round < iterations else { break }
            // Majority vote per bit among the members that cover it; a tie keeps the bit.
            var votes = [Int](repeating: 0, count: book.count * v)
            for i in patterns.indices {
                for t in 0..<v where masks[i] >> UInt32(t) & 1 == 1 {
                    votes[assignment[i] * v + t] += patterns[i] >> UInt32(t) & 1 == 1 ? 1 : -1
                }
            }
            for k in book.indices {
                for t in 0..<v where votes[k * v + t] != 0 {
                    book[k] = votes[k * v + t] > 0 ? book[k] | 1 << UInt32(t) : book[k] & ~(1 << UInt32(t))
                }
            }
        }
        // end region: k-means
        indices = assignment; codebook = book
    }

    init(rows: Int, cols: Int, vector: Int, indexBits: Int) {
        self.rows = rows; self.cols = cols; self.vector = vector; self.indexBits = indexBits
        indices = []; codebook = []; outputScale = []; inputScale = []
    }

    /// The ±1 sign the code gives weight (r, j).
    @inline(__always)
    public func sign(_ r: Int, _ j: Int) -> Float {
        codebook[indices[r * chunks + j / vector]] >> UInt32(j % vector) & 1 == 1 ? 1 : -1
    }

    /// Fraction of the signs of W (of W R, when rotated) the codebook reproduces.
    public func agreement(with w: ConstFloatPointer) -> Double {
        let weight = Array(UnsafeBufferPointer(start: w, count: rows * cols))
        let encoded = rotation?.applied(weight, rows: rows) ?? weight
        var same = 0
        for r in 0..<rows { for j in 0..<cols where (encoded[r * cols + j] >= 0) == (sign(r, j) > 0) { same += 1 } }
        return Double(same) / Double(rows * cols)
    }

    /// S_out[r] · c(r, j) · S_in[j], in the rotated basis where there is one.
    public var encoded: [Float] {
        (0..<(rows * cols)).map { i in let (r, j) = (i / cols, i % cols); return outputScale[r] * sign(r, j) * inputScale[j] }
    }

    /// The weights in the layer's own basis: the encoded ones, rotated back (· Rᵀ).
    public func dequantized() -> [Float] {
        guard let rotation else { return encoded }
        return rotation.applied(encoded, rows: rows, transposed: true)
    }

    public func tensors(prefix: String) -> [(name: String, entry: Safetensors.Entry)] {
        var t: [(name: String, entry: Safetensors.Entry)] = [
            (prefix + "indices", .bytes(packIndices(indices, bits: indexBits))),
            (prefix + "codebook", .bytes(packIndices(codebook.map(Int.init), bits: vector))),
            (prefix + "input_scale", .halves(inputScale, shape: [cols])),
            (prefix + "output_scale", .halves(outputScale, shape: [rows]))]
        if let rotation {
            t += [(prefix + "rotation_left", .halves(rotation.left, shape: [rotation.k1, rotation.k1])),
                  (prefix + "rotation_right", .halves(rotation.right, shape: [rotation.k2, rotation.k2]))]
        }
        return t
    }

    /// The centroids decoded into sign bits once, then OneBit's kernel: the
    /// kernel reads one bit a weight, not the b / v of the stored form. A
    /// rotated code rotates each token first.
    public func packed(precision: ActivationPrecision) -> LinearLayer? {
        let signs = (0..<(rows * cols)).map { sign($0 / cols, $0 % cols) }
        let bits = signs.withUnsafeBufferPointer { PackedSigns($0.baseAddress!, rows: rows, cols: cols) }
        let layer = PackedBinaryLinear(PackedMixtureOfScales(signs: bits, experts: 1, router: nil, inputScale: inputScale,
                                                             outputScale: outputScale), precision: precision)
        return rotation.map { RotatedInputLinear(layer, rotation: $0) } ?? layer
    }

    public static func load(_ file: Safetensors, prefix: String, rows: Int, cols: Int, vector: Int,
                            indexBits: Int, rotated: Bool) throws -> CodebookCode {
        var c = CodebookCode(rows: rows, cols: cols, vector: vector, indexBits: indexBits)
        c.indices = unpackIndices(try file.bytes(prefix + "indices", count: (rows * c.chunks * indexBits + 7) / 8),
                                  bits: indexBits, count: rows * c.chunks)
        c.codebook = unpackIndices(try file.bytes(prefix + "codebook", count: (c.centroids * vector + 7) / 8),
                                   bits: vector, count: c.centroids).map(UInt32.init)
        c.inputScale = try file.halves(prefix + "input_scale", shape: [cols])
        c.outputScale = try file.halves(prefix + "output_scale", shape: [rows])
        if rotated {
            let r = KroneckerRotation(identity: cols)
            c.rotation = KroneckerRotation(k1: r.k1, k2: r.k2, left: try file.halves(prefix + "rotation_left", shape: [r.k1, r.k1]),
                                           right: try file.halves(prefix + "rotation_right", shape: [r.k2, r.k2]))
        }
        return c
    }
}

/// BTC distilled afterwards (`--distill`): the code's signs stay fixed (a
/// centroid index has no gradient to follow), and its two scale vectors are
/// trained by BinaryMoS's recipe, through OneBit's layer holding those signs
/// (behind the code's rotation, which also stays). It is stored as the code
/// is, with the trained scales.
public final class DistilledCodebookLinear: StoredLayer {
    public let code: CodebookCode
    let layer: MixtureOfScalesLinear
    let rotated: LinearLayer               // the layer, behind the rotation where there is one
    public var inFeatures: Int { code.cols }
    public var outFeatures: Int { code.rows }
    public var parameters: [Parameter] { layer.parameters }

    public init(_ code: CodebookCode, name: String, workspace: Workspace) {
        self.code = code
        let layer = MixtureOfScalesLinear(name: name, inFeatures: code.cols, outFeatures: code.rows, experts: 1, workspace: workspace)
        self.layer = layer
        for i in 0..<(code.rows * code.cols) { layer.latent.value[i] = code.sign(i / code.cols, i % code.cols) }
        layer.latent.trainable = false
        for j in 0..<code.cols { layer.inputScale.value[j] = code.inputScale[j] }
        for r in 0..<code.rows { layer.outputScale.value[r] = code.outputScale[r] }
        rotated = code.rotation.map { RotatedInputLinear(layer, rotation: $0) } ?? layer
    }

    public func forward(_ y: FloatPointer, _ x: ConstFloatPointer, rows: Int) { rotated.forward(y, x, rows: rows) }

    public func backward(_ dx: FloatPointer, _ dy: ConstFloatPointer, _ x: ConstFloatPointer, rows: Int, accumulate: Bool) {
        rotated.backward(dx, dy, x, rows: rows, accumulate: accumulate)
    }

    /// The code with the scales as trained, rounded to 16 bits as stored.
    public var trained: CodebookCode {
        var c = code
        c.inputScale = roundedToHalf(layer.inputScale.value.array)
        c.outputScale = roundedToHalf(layer.outputScale.value.array)
        return c
    }

    public func tensors(prefix: String) -> [(name: String, entry: Safetensors.Entry)] { trained.tensors(prefix: prefix) }
    public func packed(precision: ActivationPrecision) -> LinearLayer? { trained.packed(precision: precision) }
}
