import Dispatch

/// Where a training or distillation step's time goes, by kind of work
/// (`mos bench train --breakdown`), or a decoded token's (`mos bench decode`). Off unless a benchmark turns it on; then
/// each probed function adds its wall time to its kind. The outermost probe
/// wins: time inside "teacher forward" is the teacher's, not its layers', so
/// the kinds never count a moment twice and their sum is at most the step.
/// Probes are read on the thread that calls the numerical functions (the
/// work may fan out to threads inside them); nothing else may run meanwhile.
public enum StepProfile {
    public enum Kind: String, CaseIterable, Sendable {
        case linearForward = "linear, forward"
        case linearBackwardData = "linear, backward (data)"
        case linearBackwardWeight = "linear, backward (weight)"
        case attention = "attention"
        case norm = "RMSNorm"
        case rotary = "rotary"
        case swiglu = "SwiGLU"
        case loss = "loss"
        case embedding = "embedding"
        case residual = "residual adds"
        case optimizer = "AdamW"
        case teacher = "teacher forward"
        case router = "router softmax"
        case scaleMixing = "scale mixing"
        case head = "output head"
    }

    nonisolated(unsafe) private static var enabled = false, busy = false
    nonisolated(unsafe) private static var nanoseconds = [UInt64](repeating: 0, count: Kind.allCases.count)

    /// Starts counting from zero.
    public static func start() {
        nanoseconds = [UInt64](repeating: 0, count: Kind.allCases.count)
        (enabled, busy) = (true, false)
    }

    /// Stops counting and returns the seconds of each kind.
    public static func stop() -> [Kind: Double] {
        enabled = false
        return Dictionary(uniqueKeysWithValues: Kind.allCases.enumerated().map { ($1, Double(nanoseconds[$0]) * 1e-9) })
    }

    /// A probe for the rest of the calling function:
    /// `let probe = StepProfile.probe(.norm); defer { probe.end() }`.
    @inline(__always)
    public static func probe(_ kind: Kind) -> Probe {
        guard enabled, !busy else { return Probe(index: -1, start: 0) }
        busy = true
        return Probe(index: Kind.allCases.firstIndex(of: kind)!, start: DispatchTime.now().uptimeNanoseconds)
    }

    /// `body`, counted as `kind`.
    @discardableResult
    public static func measure<T>(_ kind: Kind, _ body: () throws -> T) rethrows -> T {
        let probe = probe(kind)
        defer { probe.end() }
        return try body()
    }

    public struct Probe {
        let index: Int, start: UInt64
        @inline(__always)
        public func end() {
            guard index >= 0 else { return }
            StepProfile.nanoseconds[index] += DispatchTime.now().uptimeNanoseconds - start
            StepProfile.busy = false
        }
    }
}
