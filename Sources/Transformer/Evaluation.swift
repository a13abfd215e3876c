import Foundation
import Kernels
import Corpus

/// Validation quality of a model, per byte.
public struct Evaluation: Codable, Sendable {
    public var nats: Double               // mean next-byte loss
    public var bitsPerByte: Double
    public var perplexity: Double         // exp(nats): per byte
    public var floorBitsPerByte: Double?  // the generator's entropy on the same bytes, when known
    public var tokens: Int
}

/// Scores non-overlapping windows of the validation split (all of them, or
/// `windows` evenly spread). Every target byte is predicted from the bytes
/// before it in its window, so the first bytes of a window see little context.
public func evaluate(_ model: TransformerModel, corpus: Corpus, windows limit: Int? = nil,
                     batch: Int = 16) -> Evaluation {
    let length = model.config.context
    let starts = corpus.validationWindows(length: length, limit: limit)
    precondition(!starts.isEmpty, "validation split shorter than one window")
    var total: Double = 0
    for chunk in stride(from: 0, to: starts.count, by: batch) {
        let group = Array(starts[chunk..<min(chunk + batch, starts.count)])
        let (inputs, targets) = corpus.windows(at: group, length: length)
        model.forward(tokens: inputs, targets: targets, batch: group.count, length: length)
        for loss in model.lastLosses { total += Double(loss) }
    }
    let targetPositions = corpus.targetPositions(of: starts, length: length)
    let nats = total / Double(targetPositions.count)
    return Evaluation(nats: nats, bitsPerByte: nats / log(2), perplexity: exp(nats),
                      floorBitsPerByte: corpus.floorBitsPerByte(at: targetPositions),
                      tokens: targetPositions.count)
}
