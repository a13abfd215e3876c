import Randomness
/// Fixed-length windows of the corpus as next-byte prediction examples:
/// inputs = bytes[s ..< s+length], targets = bytes[s+1 ... s+length].
extension Corpus {
    /// `batch` training windows, row-major [batch, length]. A text's are at
    /// random starts inside the training range (targets never reach past it).
    /// A stream's are consecutive slices of batch · (length + 1) bytes freshly
    /// generated from a seed drawn from `rng`: a function of the run's seed and
    /// the step, so no two batches share text and none is the validation sample.
    public func trainingBatch(batch: Int, length: Int, using rng: inout SeededGenerator)
        -> (inputs: [Int32], targets: [Int32])
    {
        guard streamsTraining else {
            return windows(at: trainingStarts(batch: batch, length: length, using: &rng), length: length)
        }
        precondition(batch > 0 && length > 0)
        let fresh = Corpus(name: name, bytes: SyntheticLanguage.generate(bytes: batch * (length + 1), seed: rng.next()).text)
        return fresh.windows(at: (0..<batch).map { $0 * (length + 1) }, length: length)
    }

    /// The random window starts behind `trainingBatch`: uniform over every start
    /// whose window of length + 1 bytes lies inside the training range.
    public func trainingStarts(batch: Int, length: Int, using rng: inout SeededGenerator) -> [Int] {
        precondition(batch > 0 && length > 0)
        let choices = trainRange.count - length
        precondition(choices > 0, "training range (\(trainRange.count) bytes) too short for length \(length)")
        return (0..<batch).map { _ in trainRange.lowerBound + rng.below(choices) }
    }

    /// Start offsets of non-overlapping windows of length + 1 bytes inside the
    /// validation range; with a `limit`, at most that many, spread evenly.
    public func validationWindows(length: Int, limit: Int? = nil) -> [Int] {
        precondition(length > 0)
        let count = validationRange.count / (length + 1)
        let kept = min(count, max(0, limit ?? count))
        // Window k of `kept` is window k * count / kept of all: evenly spread, and
        // all of them when nothing is cut.
        return (0..<kept).map { k in
            validationRange.lowerBound + (k * count / kept) * (length + 1)
        }
    }

    /// Inputs and targets of the windows starting at `starts`, row-major [starts.count, length].
    public func windows(at starts: [Int], length: Int) -> (inputs: [Int32], targets: [Int32]) {
        var inputs: [Int32] = []
        var targets: [Int32] = []
        inputs.reserveCapacity(starts.count * length)
        targets.reserveCapacity(starts.count * length)
        for start in starts {
            precondition(start >= 0 && start + length < bytes.count, "window at \(start) out of range")
            for i in start..<(start + length) {
                inputs.append(Int32(bytes[i]))
                targets.append(Int32(bytes[i + 1]))
            }
        }
        return (inputs, targets)
    }

    /// Byte positions predicted by those windows (same order as the targets),
    /// e.g. for `floorBitsPerByte(at:)`.
    public func targetPositions(of starts: [Int], length: Int) -> [Int] {
        starts.flatMap { ($0 + 1)...($0 + length) }
    }
}
