import Foundation

/// p ← softmax(p) over `count` entries, in place: the maximum is subtracted
/// first, so no exp overflows. Attention, routers and the loss all use it.
@inline(__always)
public func softmax(_ p: FloatPointer, count: Int) {
    var maximum = -Float.infinity
    for j in 0..<count { maximum = max(maximum, p[j]) }
    var sum: Float = 0
    for j in 0..<count {
        p[j] = exp(p[j] - maximum)
        sum += p[j]
    }
    let inverse = 1 / sum
    for j in 0..<count { p[j] *= inverse }
}
