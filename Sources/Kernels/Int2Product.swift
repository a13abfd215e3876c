import CKernels

/// Two-bit group-quantized weights packed for the int2 kernel: w ≈ scale · (code − zero),
/// one scale and zero (16-bit floats) per `groupSize` columns of a row.
///
///     row r, block of 64 columns = 16 bytes:
///         byte i:  bits 0–1  bits 2–3   bits 4–5   bits 6–7
///                  col i     col 16+i   col 32+i   col 48+i
///
/// Rows are ⌈cols / 64⌉ blocks long, so a row of cols (a multiple of 64)
/// takes cols / 4 bytes: exactly the 2 bits per weight of the accounting,
/// plus 32 bits per group for scale and zero. The kernel reads 256 columns
/// at a time, past a row's end, where the activations are zero.
public final class PackedCodes2 {
    public let rows: Int, cols: Int, groupSize: Int, groups: Int, rowBytes: Int
    public let codes: UnsafeMutablePointer<UInt8>
    public let scales: [UInt16], zeros: [UInt16]     // IEEE half bits [rows, groups] (+ 8 spare)

    /// codes [rows, cols] in 0…3; scales and zeros [rows, groups].
    public convenience init(codes values: [UInt8], scales: [Float], zeros: [Float], rows: Int, cols: Int, groupSize: Int) {
        self.init(rows: rows, cols: cols, groupSize: groupSize, scales: scales, zeros: zeros)
        for r in 0..<rows {
            for j in 0..<cols {
                let byte = r * rowBytes + (j / 64) * 16 + j % 16
                codes[byte] |= values[r * cols + j] << UInt8(2 * ((j % 64) / 16))
            }
        }
    }

    /// Random codes in the kernel's layout, for benchmarks at shapes whose
    /// float weights would not fit in memory; cols a multiple of 64.
    public static func random(rows: Int, cols: Int, groupSize: Int, scales: [Float], zeros: [Float],
                              using rng: inout some RandomNumberGenerator) -> PackedCodes2 {
        precondition(cols % 64 == 0, "random codes fill whole 64-column blocks")
        let w = PackedCodes2(rows: rows, cols: cols, groupSize: groupSize, scales: scales, zeros: zeros)
        let bytes = randomBytes(rows * w.rowBytes, using: &rng)
        bytes.withUnsafeBufferPointer { w.codes.update(from: $0.baseAddress!, count: bytes.count) }
        return w
    }

    /// Zero codes, with the scales and zeros in place.
    private init(rows: Int, cols: Int, groupSize: Int, scales: [Float], zeros: [Float]) {
        precondition(groupSize % 64 == 0, "the int2 kernel needs groups of a multiple of 64 columns")
        self.rows = rows; self.cols = cols; self.groupSize = groupSize
        groups = (cols + groupSize - 1) / groupSize
        rowBytes = (cols + 63) / 64 * 16
        precondition(scales.count == rows * groups && zeros.count == rows * groups)
        codes = allocateWeightBytes(rows * rowBytes + 64)
        // Eight spare entries: the kernel reads scales eight at a time.
        self.scales = scales.map { Float16($0).bitPattern } + [UInt16](repeating: 0, count: 8)
        self.zeros = zeros.map { Float16($0).bitPattern } + [UInt16](repeating: 0, count: 8)
    }

    deinit { freeWeightBytes(codes) }

    /// Bytes of codes, scales and zeros (the spare read-ahead bytes excluded).
    public var byteCount: Int { rows * rowBytes + 4 * rows * groups }

    public func weight(_ r: Int, _ j: Int) -> Float {
        let code = codes[r * rowBytes + (j / 64) * 16 + j % 16] >> UInt8(2 * ((j % 64) / 16)) & 3
        let g = r * groups + j / groupSize
        return Float(Float16(bitPattern: scales[g])) * (Float(code) - Float(Float16(bitPattern: zeros[g])))
    }
}

/// out[t, r] = Σ_j w(r, j) · a[t, j] on int8 activations, rows split across threads.
public func int2Product(_ out: FloatPointer, _ w: PackedCodes2, _ a: ConstFloatPointer, tokens: Int,
                        scratch: QuantizedActivations) {
    let probe = StepProfile.probe(.linearForward); defer { probe.end() }
    precondition(scratch.tokens >= tokens && scratch.cols == w.cols && scratch.paddedCols % 256 == 0)
    scratch.quantize(a, tokens: tokens)
    let padded = scratch.paddedCols, n = w.rows, planes = scratch.planes
    let ordered = scratch.reorderedValues
    for plane in 0..<(tokens * planes) {
        ck_int2_order(scratch.values + plane * padded, ordered + plane * padded, Int32(padded))
    }
    w.scales.withUnsafeBufferPointer { scales in
        w.zeros.withUnsafeBufferPointer { zeros in
            parallelChunks(n, minimumChunk: 64) { rows in
                ck_int2_i8(w.codes, w.rowBytes, scales.baseAddress!, zeros.baseAddress!, Int32(w.cols), Int32(w.groups),
                           Int32(w.groupSize), Int32(rows.lowerBound), Int32(rows.upperBound), ordered, planes * padded,
                           Int32(padded), Int32(planes), Int32(tokens), out, n)
            }
        }
    }
    for t in 0..<tokens {
        let s = scratch.scales[t]
        for r in 0..<n { out[t * n + r] *= s }
    }
}

/// Naive reference: Σ_j w(r, j) · a[t, j] in Double.
public func naiveInt2Product(_ out: FloatPointer, _ w: PackedCodes2, _ a: ConstFloatPointer, tokens: Int) {
    for t in 0..<tokens {
        for r in 0..<w.rows {
            var sum = 0.0
            for j in 0..<w.cols { sum += Double(w.weight(r, j)) * Double(a[t * w.cols + j]) }
            out[t * w.rows + r] = Float(sum)
        }
    }
}
