import Kernels

// Packing small unsigned codes into bytes, `bits` bits per code (1 for signs,
// 2–4 for group quantization, 8 for PB-LLM's salient values), as a contiguous
// little-endian bit stream: code i occupies bits [i·b, (i+1)·b) of the stream,
// bit k of the stream is bit (k mod 8) of byte k / 8. No padding between rows,
// so n codes take exactly ⌈n·b / 8⌉ bytes, which is what the accounting counts.
//
//     bits = 2:   byte 0 = c3 c3 c2 c2 c1 c1 c0 c0   (most significant bit first)

public func packCodes(_ codes: [UInt8], bits: Int) -> [UInt8] {
    precondition((1...8).contains(bits))
    var out = [UInt8](repeating: 0, count: (codes.count * bits + 7) / 8)
    for (i, code) in codes.enumerated() {
        precondition(Int(code) < 1 << bits, "code \(code) does not fit in \(bits) bits")
        let bit = i * bits
        let value = UInt16(code) << UInt16(bit % 8)
        out[bit / 8] |= UInt8(truncatingIfNeeded: value)
        if bit % 8 + bits > 8 { out[bit / 8 + 1] |= UInt8(truncatingIfNeeded: value >> 8) }
    }
    return out
}

public func unpackCodes(_ bytes: [UInt8], bits: Int, count: Int) -> [UInt8] {
    precondition((1...8).contains(bits) && bytes.count * 8 >= count * bits)
    let mask = UInt16(1 << bits - 1)
    return (0..<count).map { i in
        let bit = i * bits
        var value = UInt16(bytes[bit / 8]) >> UInt16(bit % 8)
        if bit % 8 + bits > 8 { value |= UInt16(bytes[bit / 8 + 1]) << UInt16(8 - bit % 8) }
        return UInt8(value & mask)
    }
}

// region: pack-signs
/// Sign bits of a weight buffer: 1 for w ≥ 0 (sign(0) = +1), 0 for w < 0.
public func packSigns(_ w: ConstFloatPointer, count: Int) -> [UInt8] {
    packCodes((0..<count).map { w[$0] < 0 ? 0 : 1 }, bits: 1)
}
// end region: pack-signs

/// ±1 values from sign bits.
public func unpackSigns(_ bytes: [UInt8], count: Int) -> [Float] {
    unpackCodes(bytes, bits: 1, count: count).map { $0 == 0 ? -1 : 1 }
}

/// Wider codes (codebook indices, up to 24 bits) in the same little-endian bit stream.
public func packIndices(_ indices: [Int], bits: Int) -> [UInt8] {
    precondition((1...24).contains(bits))
    var out = [UInt8](repeating: 0, count: (indices.count * bits + 7) / 8)
    for (i, index) in indices.enumerated() {
        precondition(index >= 0 && index < 1 << bits, "index \(index) does not fit in \(bits) bits")
        for k in 0..<bits where index >> k & 1 == 1 { out[(i * bits + k) / 8] |= 1 << UInt8((i * bits + k) % 8) }
    }
    return out
}

public func unpackIndices(_ bytes: [UInt8], bits: Int, count: Int) -> [Int] {
    precondition((1...24).contains(bits) && bytes.count * 8 >= count * bits)
    return (0..<count).map { i in
        (0..<bits).reduce(0) { v, k in v | Int(bytes[(i * bits + k) / 8] >> UInt8((i * bits + k) % 8) & 1) << k }
    }
}
