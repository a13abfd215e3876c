import Randomness
import Foundation
import Corpus

/// Samples `count` bytes after `prompt`, at `temperature` (0 = greedy), one
/// byte per step through a `Decoder`: the prompt is fed byte by byte, then
/// each sampled byte, so every linear layer multiplies a single vector.
public func generate(_ model: TransformerModel, prompt: [UInt8], count: Int, temperature: Float,
                     seed: UInt64) -> [UInt8] {
    var rng = SeededGenerator(seed: seed)
    var text = prompt.isEmpty ? [UInt8(ascii: "\n")] : prompt
    let decoder = Decoder(model)
    for byte in text { decoder.feed(Int32(byte)) }
    for step in 0..<count {
        let logits = (0..<decoder.logits.count).map { Double(decoder.logits[$0]) }
        let top = logits.max()!
        let choice: Int
        if temperature == 0 {
            choice = logits.firstIndex(of: top)!
        } else {
            // softmax(logits / T), unnormalised
            let weights = logits.map { exp(($0 - top) / Double(temperature)) }
            var u = rng.uniform() * weights.reduce(0, +)
            choice = weights.indices.first { u -= weights[$0]; return u < 0 } ?? weights.count - 1
        }
        text.append(UInt8(choice))
        if step + 1 < count { decoder.feed(Int32(choice)) }
    }
    return Array(text.suffix(count))
}
