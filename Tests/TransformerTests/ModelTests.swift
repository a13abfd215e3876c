import Randomness
import XCTest
import Foundation
import Kernels
import Corpus
@testable import Transformer

func tinyConfig() -> ModelConfig {
    var c = ModelConfig()
    c.vocabulary = 256; c.dim = 16; c.layers = 2; c.heads = 2; c.ffnHidden = 24; c.context = 8
    return c
}

final class ModelTests: XCTestCase {
    override func setUp() { Threads.use(2) }

    /// The whole model's loss gradient against finite differences, for a
    /// sample of entries of every parameter tensor.
    /// The memory `mos train` refuses sizes by: trainingBytes against the
    /// tensors Activations really allocates (counted by reflection), plus the
    /// parameters four times (value, gradient, AdamW's two moments).
    func testTrainingBytesCountWhatTrainingHolds() {
        var c = ModelConfig()
        c.dim = 16; c.layers = 3; c.heads = 2; c.ffnHidden = 40; c.context = 12
        let activations = Activations(config: c, batch: 5, length: c.context)
        let floats = Mirror(reflecting: activations).children.reduce(0) { sum, child in
            switch child.value {
            case let t as Tensor: return sum + t.count
            case let ts as [Tensor]: return sum + ts.reduce(0) { $0 + $1.count }
            default: return sum
            }
        }
        XCTAssertEqual(trainingBytes(c, batch: 5), Double(4 * (floats + 4 * c.parameterCount)))
        XCTAssertEqual(c.parameterCount, TransformerModel(config: c, seed: 1).parameters.reduce(0) { $0 + $1.value.count })
    }

    func testModelGradientMatchesFiniteDifferences() {
        let model = TransformerModel(config: tinyConfig(), seed: 7)
        // Larger weights than the init so every path carries signal.
        var rng = SeededGenerator(seed: 8)
        for p in model.parameters where p.value.shape.count == 2 {
            for i in 0..<p.value.count { p.value[i] = rng.normal() * 0.3 }
        }
        let batch = 2, length = 8
        let tokens = (0..<(batch * length)).map { _ in Int32(rng.below(256)) }
        let targets = (0..<(batch * length)).map { _ in Int32(rng.below(256)) }
        func loss() -> Double { Double(model.forward(tokens: tokens, targets: targets, batch: batch, length: length)) }
        model.zeroGradients()
        _ = loss()
        model.backward()
        for p in model.parameters {
            // Entries that matter: the embedding rows of the tokens used, otherwise a spread sample.
            let picks: [Int] = p.name == "embedding"
                ? (0..<4).map { Int(tokens[$0]) * model.config.dim + $0 }
                : (0..<6).map { $0 * p.value.count / 6 + 1 }
            for i in picks {
                let saved = p.value[i], eps: Float = 1e-2
                p.value[i] = saved + eps; let plus = loss()
                p.value[i] = saved - eps; let minus = loss()
                p.value[i] = saved
                let numeric = (plus - minus) / Double(2 * eps)
                XCTAssertEqual(Double(p.grad[i]), numeric, accuracy: 2e-3 + 3e-2 * abs(numeric),
                               "\(p.name)[\(i)]")
            }
        }
    }

    /// Decoding token by token with a cache of keys and values gives the
    /// probabilities a full pass over the decoder's window gives, also after
    /// the window has filled and shifted (20 tokens, context 8).
    func testDecoderMatchesFullPasses() {
        let c = tinyConfig()
        let model = TransformerModel(config: c, seed: 11)
        var rng = SeededGenerator(seed: 12)
        for p in model.parameters where p.value.shape.count == 2 {
            for i in 0..<p.value.count { p.value[i] = rng.normal() * 0.3 }
        }
        let tokens = (0..<20).map { _ in Int32(rng.below(256)) }
        let decoder = Decoder(model)
        var lengths: [Int] = []
        for t in tokens.indices {
            decoder.feed(tokens[t])
            let window = decoder.window
            XCTAssertEqual(window.last, tokens[t])
            lengths.append(window.count)
            model.forward(tokens: window, targets: window, batch: 1, length: window.count)
            let full = model.lastProbabilities! + (window.count - 1) * c.vocabulary
            let top = (0..<c.vocabulary).map { decoder.logits[$0] }.max()!
            let e = (0..<c.vocabulary).map { exp(Double(decoder.logits[$0] - top)) }, total = e.reduce(0, +)
            for i in 0..<c.vocabulary {
                XCTAssertEqual(e[i] / total, Double(full[i]), accuracy: 1e-6 + 1e-4 * Double(full[i]), "token \(t), byte \(i)")
            }
        }
        XCTAssertEqual(lengths, [1, 2, 3, 4, 5, 6, 7, 8, 5, 6, 7, 8, 5, 6, 7, 8, 5, 6, 7, 8])
    }

    func testSameSeedSameLossesBitForBit() {
        let corpus = Corpus.synthetic(validationBytes: 2_000, seed: 3)
        var profile = Profile.named("smoke")!
        profile.model = tinyConfig()
        func run() -> [Float] {
            let model = TransformerModel(config: profile.model, seed: 11)
            return train(model, corpus: corpus, profile: profile, steps: 40, seed: 5, checks: 0).steps.map(\.loss)
        }
        let first = run(), second = run()
        XCTAssertEqual(first.map(\.bitPattern), second.map(\.bitPattern))
        // ...and training does something: the loss falls from ln 256.
        XCTAssertEqual(Double(first[0]), log(256), accuracy: 0.2)
        XCTAssertLessThan(first.last!, first[0] - 0.5)
    }

    /// A smaller batch after a larger one runs in the larger one's buffers and
    /// gives what a fresh model gives, loss and gradients bit for bit.
    func testSmallerBatchReusesTheBuffersExactly() {
        let c = tinyConfig(), corpus = Corpus.synthetic(validationBytes: 2_000, seed: 3)
        var rng = SeededGenerator(seed: 1)
        let (big, bigTargets) = corpus.trainingBatch(batch: 3, length: c.context, using: &rng)
        let (small, smallTargets) = corpus.trainingBatch(batch: 1, length: c.context, using: &rng)
        func step(_ model: TransformerModel) -> (Float, [[Float]]) {
            model.zeroGradients()
            let loss = model.forward(tokens: small, targets: smallTargets, batch: 1, length: c.context)
            model.backward()
            return (loss, model.parameters.map(\.grad.array))
        }
        let reused = TransformerModel(config: c, seed: 2)
        reused.forward(tokens: big, targets: bigTargets, batch: 3, length: c.context)
        reused.backward()
        let (a, gradsA) = step(reused), (b, gradsB) = step(TransformerModel(config: c, seed: 2))
        XCTAssertEqual(a.bitPattern, b.bitPattern)
        XCTAssertEqual(gradsA, gradsB)
        XCTAssertEqual(reused.lastRows, c.context)
    }

    /// A trace holds all a replay needs: starting from its initial weights, on
    /// its batches, at its learning rates, an optimizer with its recipe gives
    /// the recorded losses bit for bit (here in Swift; scripts/torch-train.py
    /// does the same in PyTorch).
    func testTraceReplaysItsRun() throws {
        let corpus = Corpus(name: "letters", bytes: SyntheticLanguage.generate(bytes: 20_000, seed: 4).text)
        var profile = Profile.named("smoke")!
        profile.model = tinyConfig()
        let trace = TrainingTrace()
        let run = train(TransformerModel(config: profile.model, seed: 11), corpus: corpus, profile: profile, steps: 4,
                        seed: 5, checks: 0, trace: trace)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mos-trace-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try trace.write(to: folder)

        let (model, metadata) = try TransformerModel.load(from: folder.appendingPathComponent("initial.safetensors"))
        let fresh = TransformerModel(config: profile.model, seed: 11)
        XCTAssertEqual(model.parameters.map(\.value.array), fresh.parameters.map(\.value.array))
        let recipe = try JSONDecoder().decode(TrainingTrace.Recipe.self, from: Data(metadata["recipe"]!.utf8))
        let batches = try Safetensors.read(from: folder.appendingPathComponent("batches.safetensors"))
        let shape = [4, profile.batch, profile.model.context], count = shape.reduce(1, *)
        let inputs = try batches.bytes("inputs", shape: shape).map(Int32.init)
        let targets = try batches.bytes("targets", shape: shape).map(Int32.init)
        XCTAssertEqual(inputs.count, count)
        let rows = try String(contentsOf: folder.appendingPathComponent("steps.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(rows.map { Float($0[1])! }, run.steps.map(\.loss))

        let optimizer = AdamW(model.parameters, weightDecay: recipe.weightDecay)
        optimizer.beta1 = recipe.beta1; optimizer.beta2 = recipe.beta2; optimizer.epsilon = recipe.epsilon
        let per = count / 4
        for (s, row) in rows.enumerated() {
            model.zeroGradients()
            let loss = model.forward(tokens: Array(inputs[(s * per)..<((s + 1) * per)]),
                                     targets: Array(targets[(s * per)..<((s + 1) * per)]),
                                     batch: profile.batch, length: profile.model.context)
            XCTAssertEqual(loss.bitPattern, Float(row[1])!.bitPattern, "step \(s + 1)")
            model.backward()
            optimizer.update(lr: Float(row[2])!, clip: recipe.gradientClip)
        }
    }

    /// Random letters: the letter frequencies carry over to held-out text, the
    /// sequence does not, so a model that trains long enough memorizes its
    /// split and the validation loss turns up. Training stops there and keeps
    /// the best check's weights.
    func testTrainingOnATextStopsWhenValidationRisesAndKeepsTheBest() {
        var rng = SeededGenerator(seed: 4)
        let text = Corpus(name: "letters", bytes: (0..<1_000).map { _ in UInt8(65 + rng.below(16)) })
        var profile = Profile.named("smoke")!
        profile.model = tinyConfig(); profile.model.dim = 32; profile.model.ffnHidden = 96
        profile.learningRate = 1e-2; profile.weightDecay = 0; profile.evalWindows = nil
        let model = TransformerModel(config: profile.model, seed: 1)
        let run = train(model, corpus: text, profile: profile, steps: 1_500, seed: 2, checks: 30)
        XCTAssert(run.stoppedEarly, "validation never rose: \(run.checks.map(\.bitsPerByte))")
        XCTAssertLessThan(run.steps.count, 1_500)
        let best = run.checks.min { $0.bitsPerByte < $1.bitsPerByte }!
        XCTAssertEqual(run.tokens, best.tokens)
        XCTAssert(run.checks.suffix(2).allSatisfy { $0.bitsPerByte > best.bitsPerByte }, "stopped before two worse checks")
        XCTAssertEqual(evaluate(model, corpus: text).bitsPerByte, best.bitsPerByte, accuracy: 1e-9)
        XCTAssertNil(run.lastFifthImprovement)
    }

    /// A stream cannot be memorized: every check is recorded and training runs to the end.
    func testTrainingOnTheStreamRunsToTheEndWithItsChecks() {
        let stream = Corpus.synthetic(validationBytes: 2_000, seed: 3)
        var profile = Profile.named("smoke")!
        profile.model = tinyConfig()
        let run = train(TransformerModel(config: profile.model, seed: 1), corpus: stream, profile: profile,
                        steps: 50, seed: 2, checks: 10)
        XCTAssertFalse(run.stoppedEarly)
        XCTAssertEqual(run.checks.map(\.step), Array(stride(from: 5, through: 50, by: 5)))
        XCTAssertEqual(run.tokens, 50 * profile.batch * 8)
        let fifth = try! XCTUnwrap(run.lastFifthImprovement)
        XCTAssertEqual(fifth, (run.checks[7].bitsPerByte - run.checks[9].bitsPerByte) / run.checks[7].bitsPerByte, accuracy: 1e-12)
    }

    func testCheckpointRoundTrip() throws {
        let model = TransformerModel(config: tinyConfig(), seed: 9)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mos-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.save(to: url, metadata: ["corpus": "synthetic"])
        let (loaded, metadata) = try TransformerModel.load(from: url)
        XCTAssertEqual(loaded.config, model.config)
        XCTAssertEqual(metadata["corpus"], "synthetic")
        for (a, b) in zip(model.parameters, loaded.parameters) {
            XCTAssertEqual(a.name, b.name)
            XCTAssertEqual(a.value.array, b.value.array, a.name)
        }
        // A file truncated anywhere, or with a tensor of the wrong shape, is an error, not a crash.
        let bytes = try Data(contentsOf: url)
        for cut in [0, 5, 8, 100, bytes.count / 2, bytes.count - 1] {
            XCTAssertThrowsError(try TransformerModel.load(from: write(bytes.prefix(cut))), "cut at \(cut)")
        }
        var other = tinyConfig(); other.dim = 32; other.ffnHidden = 48
        var file = try Safetensors.read(from: url)
        file.metadata["config"] = String(decoding: try JSONEncoder().encode(other), as: UTF8.self)
        XCTAssertThrowsError(try TransformerModel.load(from: write(file.encoded()))) { error in
            XCTAssertTrue("\(error)".contains("expected F32"), "\(error)")
        }
        // A config far beyond the file's data, or beyond any model run here, is refused before allocating.
        for (dim, layers) in [(1 << 40, 2), (8192, 200)] {
            var huge = tinyConfig(); huge.dim = dim; huge.layers = layers
            file.metadata["config"] = String(decoding: try JSONEncoder().encode(huge), as: UTF8.self)
            XCTAssertThrowsError(try TransformerModel.load(from: write(file.encoded()))) { error in
                XCTAssertTrue("\(error)".contains("invalid model config"), "\(error)")
            }
        }
        var longContext = tinyConfig(); longContext.context = 1 << 16     // no more parameters, 2^32 scores
        XCTAssertFalse(longContext.problems.isEmpty)
        XCTAssertTrue(Profile.names.allSatisfy { Profile.named($0)!.model.problems.isEmpty })
        // Not a safetensors file at all.
        XCTAssertThrowsError(try TransformerModel.load(from: write(Data("root:x:0:0:root:/root:/bin/bash\n".utf8)))) { error in
            XCTAssertTrue("\(error)".contains("is not a safetensors file"), "\(error)")
        }
    }

    /// Saving onto a folder is an error that leaves the folder and its files alone.
    func testSavingOntoAFolderRefuses() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mos-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: folder.appendingPathComponent("file"))
        XCTAssertThrowsError(try TransformerModel(config: tinyConfig(), seed: 1).save(to: folder)) { error in
            XCTAssertTrue("\(error)".contains("is a folder"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("file"), encoding: .utf8), "keep")
    }

    private func write(_ data: Data) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mos-\(UUID()).safetensors")
        try data.write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}
