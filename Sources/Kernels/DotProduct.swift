// Sums of products over contiguous floats, for the short rows of norms and
// attention, where a BLAS call costs more than the sum.

/// Σ a[i]·b[i], sixteen lanes at a time (the compiler will not reorder a float sum by itself).
@inlinable @inline(__always)
public func dotProduct(_ a: ConstFloatPointer, _ b: ConstFloatPointer, count: Int) -> Float {
    var lanes = SIMD16<Float>(), i = 0
    while i + 16 <= count {
        lanes += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
            * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
        i += 16
    }
    var sum = lanes.sum()
    while i < count { sum += a[i] * b[i]; i += 1 }
    return sum
}

/// Σ a[i]·b[i]·c[i], sixteen lanes at a time (as `dotProduct`).
@inlinable @inline(__always)
public func tripleProduct(_ a: ConstFloatPointer, _ b: ConstFloatPointer, _ c: ConstFloatPointer, count: Int) -> Float {
    @inline(__always) func load(_ p: ConstFloatPointer, _ i: Int) -> SIMD16<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
    }
    var lanes = SIMD16<Float>(), i = 0
    while i + 16 <= count { lanes += load(a, i) * load(b, i) * load(c, i); i += 16 }
    var sum = lanes.sum()
    while i < count { sum += a[i] * b[i] * c[i]; i += 1 }
    return sum
}
