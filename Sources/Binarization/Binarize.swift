import Foundation
import Kernels
import Corpus
import Transformer

/// The outcome of binarizing a teacher by one method.
public struct Binarized {
    public var student: TransformerModel
    public var method: Method
    public var distillation: [DistillationStep]   // empty for post-training methods
    public var routerHistory: RouterHistory?      // gate statistics during training (BinaryMoS only)
    public var seconds: Double
}

/// Turns a trained teacher into a student by `method`: post-training methods
/// quantize (calibrating on the training split where they need inputs);
/// OneBit and BinaryMoS are initialised from the teacher and distilled for
/// `steps` (default: the profile's). For BinaryMoS the routers' gate
/// statistics on fixed validation windows are taken `snapshots` times.
public func binarize(_ teacher: TransformerModel, method: Method, corpus: Corpus, profile: Profile,
                     steps: Int? = nil, seed: UInt64, snapshots: Int = 10,
                     onStep: (DistillationStep) -> Void = { _ in }) throws -> Binarized {
    let start = Date()
    let student = Student.make(from: teacher, method: method, corpus: corpus, seed: seed)
    var history: [DistillationStep] = [], snapshotsTaken: [RouterSnapshot] = []
    if method.isTrained {
        let total = steps ?? profile.distillSteps
        let probe = RouterProbe(corpus: corpus, length: student.config.context)
        let every = max(1, total / max(1, snapshots))
        // Gate statistics where there are gates (BinaryMoS with more than one expert).
        let routed = student.blocks.contains { $0.linears.contains { ($0.layer as? MixtureOfScalesLinear)?.router != nil } }
        if routed { snapshotsTaken += probe.snapshot(student, step: 0) }
        history = try distill(student, teacher: teacher, corpus: corpus, profile: profile, steps: total, seed: seed) { r in
            onStep(r)
            if routed && (r.step % every == 0 || r.step == total) {
                snapshotsTaken += probe.snapshot(student, step: r.step)
            }
        }
    }
    return Binarized(student: student, method: method, distillation: history,
                     routerHistory: snapshotsTaken.isEmpty ? nil : RouterHistory(snapshotsTaken),
                     seconds: Date().timeIntervalSince(start))
}
