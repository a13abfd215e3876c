import CKernels

/// A matrix of signs packed one bit per weight, for the binary kernels.
///
///     row r:  byte r·rowBytes + 0          byte r·rowBytes + 1      …
///             bit 0 … bit 7                bit 0 … bit 7
///             col 0 … col 7                col 8 … col 15           …    (bit 1: +1, bit 0: −1)
///
/// rowBytes = ⌈cols / 8⌉, so the matrix takes exactly rows · cols / 8 bytes
/// when cols is a multiple of 8. The kernel reads 64 columns (8 bytes) at a
/// time, past a row's end into the next row's bits; the activations are zero
/// there, so those bits add nothing. Eight spare bytes after the last row
/// keep that read inside the buffer.
public final class PackedSigns {
    public let rows: Int, cols: Int, rowBytes: Int
    public let bits: UnsafeMutablePointer<UInt8>

    /// Packs sign(w) of W [rows, cols] (sign(0) = +1).
    public init(_ w: ConstFloatPointer, rows: Int, cols: Int) {
        self.rows = rows; self.cols = cols
        rowBytes = (cols + 7) / 8
        bits = allocateWeightBytes(rows * rowBytes + 8)
        for r in 0..<rows {
            for c in 0..<cols where w[r * cols + c] >= 0 { bits[r * rowBytes + c / 8] |= 1 << UInt8(c % 8) }
        }
    }

    /// Signs as checkpoints store them: one bit per weight, row after row with
    /// no padding, bit 0 first. When cols is a multiple of 8 these are the
    /// kernel's bytes, copied as they are.
    public init(stored: [UInt8], rows: Int, cols: Int) {
        precondition(stored.count == (rows * cols + 7) / 8, "\(stored.count) bytes do not hold \(rows)×\(cols) signs")
        self.rows = rows; self.cols = cols
        rowBytes = (cols + 7) / 8
        bits = allocateWeightBytes(rows * rowBytes + 8)
        if cols % 8 == 0 {
            stored.withUnsafeBufferPointer { bits.update(from: $0.baseAddress!, count: stored.count) }
        } else {
            for i in 0..<(rows * cols) where stored[i / 8] >> UInt8(i % 8) & 1 == 1 {
                let (r, c) = (i / cols, i % cols)
                bits[r * rowBytes + c / 8] |= 1 << UInt8(c % 8)
            }
        }
    }

    /// Random signs, for benchmarks at shapes whose float weights would not
    /// fit in memory (a kernel's speed does not depend on the signs).
    public static func random(rows: Int, cols: Int, using rng: inout some RandomNumberGenerator) -> PackedSigns {
        PackedSigns(stored: randomBytes((rows * cols + 7) / 8, using: &rng), rows: rows, cols: cols)
    }

    deinit { freeWeightBytes(bits) }

    /// The bytes the signs occupy (the spare read-ahead bytes excluded).
    public var byteCount: Int { rows * rowBytes }

    public func sign(_ r: Int, _ c: Int) -> Float { bits[r * rowBytes + c / 8] >> UInt8(c % 8) & 1 == 1 ? 1 : -1 }
}

/// `count` random bytes, eight from each draw.
func randomBytes(_ count: Int, using rng: inout some RandomNumberGenerator) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        for i in stride(from: 0, to: count, by: 8) {
            withUnsafeBytes(of: rng.next() as UInt64) { word in
                for j in 0..<min(8, count - i) { buffer[i + j] = word[j] }
            }
        }
        initialized = count
    }
}

/// out[t, r] = Σ_j sign(r, j) · a[t, j] for `tokens` rows of activations
/// a [tokens, cols]: the integer kernel (AVX-512 VNNI where the CPU has it),
/// rows split across threads (for one token, shared as they go). `scratch`
/// holds the rounded activations, and its precision says how finely they are
/// rounded.
public func binaryProduct(_ out: FloatPointer, _ signs: PackedSigns, _ a: ConstFloatPointer, tokens: Int,
                          scratch: QuantizedActivations) {
    let probe = StepProfile.probe(.linearForward); defer { probe.end() }
    precondition(scratch.tokens >= tokens && scratch.cols == signs.cols && scratch.paddedCols % 64 == 0)
    scratch.quantize(a, tokens: tokens)
    let n = signs.rows
    if tokens == 1 {
        // Decoding: a thread done with its rows takes over some of a slower one's (ck_binary_token_shared).
        let parts = max(1, min(Threads.count, n / 64))
        withUnsafeTemporaryAllocation(byteCount: 64 * parts, alignment: 64) { shares in
            ck_share_rows(shares.baseAddress, Int32(parts), Int32(n))
            parallelChunks(parts) { range in
                for part in range {
                    ck_binary_token_shared(signs.bits, signs.rowBytes, scratch.values, Int32(scratch.paddedCols),
                                           Int32(scratch.planes), scratch.scales[0], out, shares.baseAddress,
                                           Int32(parts), Int32(part))
                }
            }
        }
        return
    }
    let sums = scratch.integerSums(tokens * n)
    parallelChunks(n, minimumChunk: 64) { rows in
        ck_binary_i8(signs.bits, signs.rowBytes, Int32(rows.lowerBound), Int32(rows.upperBound), scratch.values,
                     scratch.planes * scratch.paddedCols, Int32(scratch.paddedCols), Int32(scratch.planes),
                     Int32(tokens), sums, n)
        for t in 0..<tokens {
            let s = scratch.scales[t]
            for r in rows { out[t * n + r] = Float(sums[t * n + r]) * s }
        }
    }
}

/// The same product in Swift SIMD on float activations, for comparison: a
/// weight's bit flips the sign bit of its activation (x ^ (¬bit << 31)), 16
/// lanes at a time, so no rounding of the activations at all.
public func binaryProductSIMD(_ out: FloatPointer, _ signs: PackedSigns, _ a: ConstFloatPointer, tokens: Int) {
    let (n, m) = (signs.rows, signs.cols)
    let lanes = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    let full = m / 16 * 16
    parallelChunks(n, minimumChunk: 64) { rows in
        for t in 0..<tokens {
            let x = a + t * m
            for r in rows {
                let row = signs.bits + r * signs.rowBytes
                var acc = SIMD16<Float>()
                var c = 0
                while c < full {
                    let word = UInt32(UnsafeRawPointer(row + c / 8).loadUnaligned(as: UInt16.self))
                    let flip = ((SIMD16<UInt32>(repeating: word) &>> lanes) & 1 ^ 1) &<< 31
                    let v = UnsafeRawPointer(x + c).loadUnaligned(as: SIMD16<UInt32>.self)
                    acc += unsafeBitCast(v ^ flip, to: SIMD16<Float>.self)
                    c += 16
                }
                var sum = acc.sum()
                while c < m { sum += signs.sign(r, c) * x[c]; c += 1 }
                out[t * n + r] = sum
            }
        }
    }
}

/// Naive reference: Σ_j sign(r, j) · a[t, j] in Double.
public func naiveBinaryProduct(_ out: FloatPointer, _ signs: PackedSigns, _ a: ConstFloatPointer, tokens: Int) {
    let (n, m) = (signs.rows, signs.cols)
    for t in 0..<tokens {
        for r in 0..<n {
            var sum = 0.0
            for c in 0..<m { sum += Double(signs.sign(r, c)) * Double(a[t * m + c]) }
            out[t * n + r] = Float(sum)
        }
    }
}

public enum PackedKernels {
    /// The paths the kernels take here, in words.
    public static var path: String {
        switch ck_path() {
        case 3: return "AVX-512 VNNI with GFNI"
        case 2: return "AVX-512 VNNI"
        case 1: return "AVX2"
        default: return "portable C"
        }
    }
}

/// For three sign planes of one shape, the products per block of
/// `blockCols` columns: out[((t · rows + r) · blocks + b) · 3 + k] =
/// Σ_{j in block b} sign_k(r, j) · a[t, j] (BiLLM's and ARB's packed layer).
/// Rows split across threads; `scratch` rounds the activations.
public func binaryBlockProducts(_ out: FloatPointer, _ planes: [PackedSigns], blockCols: Int, _ a: ConstFloatPointer,
                                tokens: Int, scratch: QuantizedActivations) {
    let probe = StepProfile.probe(.linearForward); defer { probe.end() }
    precondition(planes.count == 3 && blockCols % 64 == 0 && scratch.cols == planes[0].cols && scratch.tokens >= tokens)
    scratch.quantize(a, tokens: tokens)
    let n = planes[0].rows, blocks = (planes[0].cols + blockCols - 1) / blockCols, count = tokens * n * blocks * 3
    let sums = scratch.integerSums(count)
    let bits: [UnsafePointer<UInt8>?] = planes.map { UnsafePointer($0.bits) }
    bits.withUnsafeBufferPointer { b in
        parallelChunks(n, minimumChunk: 64) { rows in
            ck_binary_blocks_i8(b.baseAddress!, planes[0].rowBytes, Int32(blockCols), Int32(blocks), Int32(rows.lowerBound),
                                Int32(rows.upperBound), scratch.values, scratch.planes * scratch.paddedCols,
                                Int32(scratch.paddedCols), Int32(scratch.planes), Int32(tokens), sums, Int32(n))
        }
    }
    for t in 0..<tokens {
        let s = scratch.scales[t], base = t * n * blocks * 3
        for i in 0..<(n * blocks * 3) { out[base + i] = Float(sums[base + i]) * s }
    }
}
