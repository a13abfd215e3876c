import Foundation
import Corpus

/// Samples `count` bytes after `prompt`, at `temperature` (0 = greedy). Each
/// step reruns the model on the last `context` bytes: simple, and fast enough
/// for a model this size.
public func generate(_ model: TransformerModel, prompt: [UInt8], count: Int, temperature: Float,
                     seed: UInt64) -> [UInt8] {
    var rng = SeededGenerator(seed: seed)
    var text = prompt.isEmpty ? [UInt8(ascii: "\n")] : prompt
    let V = model.config.vocabulary
    for _ in 0..<count {
        let window = text.suffix(model.config.context).map(Int32.init)
        model.forward(tokens: window, targets: window, batch: 1, length: window.count)
        let p = model.lastProbabilities! + (window.count - 1) * V
        var weights = (0..<V).map { Double(p[$0]) }
        if temperature == 0 {
            text.append(UInt8(weights.indices.max { weights[$0] < weights[$1] }!))
            continue
        }
        if temperature != 1 { weights = weights.map { pow($0, 1 / Double(temperature)) } }
        var u = rng.uniform() * weights.reduce(0, +)
        var choice = V - 1
        for (i, w) in weights.enumerated() {
            u -= w
            if u < 0 { choice = i; break }
        }
        text.append(UInt8(choice))
    }
    return Array(text.suffix(count))
}
