import Foundation

/// p ← softmax(p) over `count` entries, in place: the maximum is subtracted
/// first, so no exp overflows. Attention, routers and the loss all use it;
/// the exps go eight at a time (`fastExp`).
@inline(__always)
public func softmax(_ p: FloatPointer, count: Int) {
    var maxima = SIMD8<Float>(repeating: -.infinity), j = 0
    while j + 8 <= count {
        let v = (p + j).load8()
        maxima.replace(with: v, where: v .> maxima)
        j += 8
    }
    var maximum = maxima.max()
    for i in j..<count { maximum = max(maximum, p[i]) }
    var sums = SIMD8<Float>.zero
    j = 0
    while j + 8 <= count {
        let e = fastExp((p + j).load8() - maximum)
        (p + j).store8(e)
        sums += e
        j += 8
    }
    var sum = sums.sum()
    if j < count {                              // the last few in one vector, padded with e^−∞ = 0
        var tail = SIMD8<Float>(repeating: -.infinity)
        for i in j..<count { tail[i - j] = p[i] - maximum }
        let e = fastExp(tail)
        for i in j..<count { p[i] = e[i - j]; sum += e[i - j] }
    }
    let inverse = 1 / sum
    for j in 0..<count { p[j] *= inverse }
}

/// Softmax's backward in place: d ← p ⊙ (d − ⟨p, d⟩) over `count` entries,
/// where p = softmax(s) and d arrives as ∂L/∂p and leaves as ∂L/∂s.
@inline(__always)
public func softmaxBackward(_ d: FloatPointer, _ p: ConstFloatPointer, count: Int) {
    var dots = SIMD8<Float>.zero, j = 0
    while j + 8 <= count { dots += (p + j).load8() * (d + j).load8(); j += 8 }
    var dot = dots.sum()
    for i in j..<count { dot += p[i] * d[i] }
    j = 0
    while j + 8 <= count { (d + j).store8((p + j).load8() * ((d + j).load8() - dot)); j += 8 }
    for i in j..<count { d[i] = p[i] * (d[i] - dot) }
}
