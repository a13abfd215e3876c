import Foundation
import Corpus

/// How a teacher was trained, and whether it met its profile's criterion.
/// It travels in the checkpoint's metadata as JSON under "training", so the
/// report's header can state it next to the teacher's bits/byte and the floor.
public struct TeacherTraining: Codable, Sendable {
    public var profile: String
    public var corpus: String
    public var seed: UInt64
    public var parameters: Int
    public var targetTokensPerParameter: Double   // the profile's criterion
    public var tokens: Int                 // behind the kept weights
    public var stoppedEarly: Bool
    public var lastFifthImprovement: Double?
    public var bitsPerByte: Double         // on the whole validation sample
    public var floorBitsPerByte: Double?
    public var seconds: Double
    public var checks: [ValidationCheck]

    public var tokensPerParameter: Double { Double(tokens) / Double(parameters) }

    /// The criterion, as the profile states it: its tokens per parameter, or a
    /// text's validation loss turning up (the best weights are then kept).
    public var meetsCriterion: Bool { stoppedEarly || tokensPerParameter >= targetTokensPerParameter }

    /// One sentence for a report header or a log.
    public var sentence: String {
        let f = { (x: Double, d: Int) in String(format: "%.\(d)f", x) }
        var s = "\(parameters) parameters trained on \(tokens) tokens (\(f(tokensPerParameter, 1)) per parameter"
        if stoppedEarly {
            s += "; stopped early at the best validation check, the loss having risen after it"
        } else if let last = lastFifthImprovement {
            s += "; validation loss fell \(f(100 * last, 2)) % over the last fifth"
        }
        s += meetsCriterion ? ", criterion met)" : ", below the criterion of \(String(format: "%g", targetTokensPerParameter)) per parameter)"
        s += ": validation \(f(bitsPerByte, 4)) bits/byte"
        if let floor = floorBitsPerByte { s += " against an entropy floor of \(f(floor, 4))" }
        return s
    }

    /// Reads the record from a checkpoint's metadata (nil for older files).
    public init?(metadata: [String: String]) {
        guard let json = metadata["training"],
              let record = try? JSONDecoder().decode(Self.self, from: Data(json.utf8)) else { return nil }
        self = record
    }

    init(profile: Profile, corpus: Corpus, seed: UInt64, model: TransformerModel, run: TrainingRun, final: Evaluation) {
        self.profile = profile.name; self.corpus = corpus.name; self.seed = seed
        parameters = model.config.parameterCount; tokens = run.tokens
        targetTokensPerParameter = profile.teacherTokensPerParameter
        stoppedEarly = run.stoppedEarly; lastFifthImprovement = run.lastFifthImprovement
        bitsPerByte = final.bitsPerByte; floorBitsPerByte = final.floorBitsPerByte
        seconds = run.steps.last?.seconds ?? 0; checks = run.checks
    }
}

/// Trains the profile's teacher from `seed` and saves it to `url` with its
/// training record. Fails, writing nothing, when the loss is not a number.
@discardableResult
public func trainTeacher(profile: Profile, corpus: Corpus, seed: UInt64, steps: Int? = nil, to url: URL,
                         metadata: [String: String] = [:], trace: TrainingTrace? = nil,
                         onStep: (StepReport) -> Void = { _ in }) throws
    -> TeacherTraining
{
    let model = TransformerModel(config: profile.model, seed: seed)
    let run = train(model, corpus: corpus, profile: profile, steps: steps, seed: seed, trace: trace, onStep: onStep)
    if let divergence = run.divergence { throw TrainingDiverged(divergence: divergence) }
    let final = evaluate(model, corpus: corpus, windows: profile.evalWindows)
    guard final.perplexity.isFinite else { throw TrainingDiverged(divergence: nil) }
    let record = TeacherTraining(profile: profile, corpus: corpus, seed: seed, model: model, run: run, final: final)
    var extra = metadata
    extra["method"] = "fp"; extra["corpus"] = corpus.name; extra["profile"] = profile.name
    extra["seed"] = String(seed); extra["steps"] = String(run.steps.count)
    extra["training"] = String(decoding: try JSONEncoder.sorted.encode(record), as: UTF8.self)
    try model.save(to: url, metadata: extra)
    return record
}

public struct TrainingDiverged: Error, CustomStringConvertible {
    public var divergence: Divergence?
    public init(divergence: Divergence?) { self.divergence = divergence }
    public var description: String {
        (divergence?.description ?? "training diverged (the validation loss is not a number)") + "; nothing written. Try a smaller --lr"
    }
}
