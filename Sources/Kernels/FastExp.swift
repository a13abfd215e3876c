/// e^x for eight floats at once, to about one unit in the last place: the
/// scalar `exp` is most of the time of SwiGLU and of the softmaxes, and the
/// compiler cannot vectorize a call into libm.
///
///     e^x = 2^n · e^r,   n = round(x / ln 2),   r = x − n · ln 2 ∈ [−ln 2 / 2, ln 2 / 2]
///
/// with ln 2 split in two (Cody and Waite) so that r keeps its low bits, e^r
/// a degree-7 Taylor-like polynomial (Cephes' expf coefficients), and 2^n made
/// by writing n + 127 into the exponent bits. Arguments are clamped to
/// [−87, 88], where 2^n stays a normal float; below −87 the result is 0, and
/// NaN stays NaN, so a diverging step is still caught downstream.
@inline(__always)
public func fastExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // (Written with masked replacements and bit tricks: SIMD's clamped, rounded
    // and Int32 conversion compile to scalar loops, three times slower than
    // libm, and pointwiseMin/Max to a call that is not inlined.)
    var c = x
    c.replace(with: -87, where: c .< -87)
    c.replace(with: 88, where: c .> 88)
    // n = round(c / ln 2): adding 1.5 · 2²³ rounds to an integer and leaves it in the low mantissa bits.
    let shifted = c * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    let r = c - n * 0.693_359_375 - n * -2.121_944_4e-4
    var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    p = p * r * r + r + 1
    let exponent = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23   // 2ⁿ's bits
    var result = p * unsafeBitCast(exponent, to: SIMD8<Float>.self)
    result.replace(with: 0, where: x .< -87)
    result.replace(with: x, where: x .!= x)   // NaN
    result.replace(with: Float.infinity, where: x .> 88.72284)
    return result
}

extension UnsafeMutablePointer where Pointee == Float {
    /// Eight floats from here (no alignment needed).
    @inline(__always) public func load8() -> SIMD8<Float> { UnsafeRawPointer(self).loadUnaligned(as: SIMD8<Float>.self) }
    @inline(__always) public func store8(_ v: SIMD8<Float>) { UnsafeMutableRawPointer(self).storeBytes(of: v, as: SIMD8<Float>.self) }
}

extension UnsafePointer where Pointee == Float {
    @inline(__always) public func load8() -> SIMD8<Float> { UnsafeRawPointer(self).loadUnaligned(as: SIMD8<Float>.self) }
}
