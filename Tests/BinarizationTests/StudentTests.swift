import Randomness
import XCTest
import Foundation
import Kernels
import Corpus
import Transformer
@testable import Binarization

final class StudentTests: XCTestCase {
    override func setUp() { Threads.use(2) }

    func tinyConfig() -> ModelConfig {
        var c = ModelConfig()
        c.dim = 16; c.layers = 2; c.heads = 2; c.ffnHidden = 24; c.context = 8
        return c
    }

    /// A teacher with weights large enough that every path carries signal.
    func tinyTeacher(seed: UInt64 = 1) -> TransformerModel {
        let model = TransformerModel(config: tinyConfig(), seed: seed)
        var rng = SeededGenerator(seed: seed + 100)
        for p in model.parameters where p.value.shape.count == 2 {
            for i in 0..<p.value.count { p.value[i] = rng.normal() * 0.3 }
        }
        return model
    }

    func methods() -> [Method] {
        var rtn3 = RoundToNearest(); rtn3.bits = 3; rtn3.groupSize = 8
        return Method.registry.map { Method($0.init()) }
            + [Method(BinaryMoS(experts: 3)), Method(PBLLM(salient: 0.1, saliency: .magnitude, compensation: false)), Method(rtn3),
               Method(ARB(variant: .calibrated)), Method(ARB(variant: .rowColumn)), Method(BTC(bitsPerWeight: 0.6, distill: true)),
               Method(BTC(bitsPerWeight: 0.6, transform: true)), Method(BTC(bitsPerWeight: 0.6, distill: true, transform: true))]
    }

    func temporaryFile() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("student-\(UUID()).safetensors")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// For every method: the checkpoint holds the accounted bytes (plus its
    /// header), and the reloaded student computes what the saved one did.
    func testCheckpointsMatchAccountingAndReload() throws {
        let teacher = tinyTeacher()
        let corpus = Corpus.synthetic(validationBytes: 2_000, seed: 2)
        let (inputs, targets) = corpus.windows(at: [0, 100, 200], length: 8)
        for method in methods() {
            let student = Student.make(from: teacher, method: method, corpus: corpus, seed: 3, calibrationWindows: 8)
            let url = temporaryFile()
            try Student.save(student, method: method, to: url)
            let file = try Data(contentsOf: url)
            let header = Int(file.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
            let dataBytes = file.count - 8 - header
            let storage = Storage.model(ModelShape(tinyConfig()), method)
            // Each packed tensor rounds up to whole bytes on its own: at most one byte per tensor.
            XCTAssertGreaterThanOrEqual(dataBytes, storage.bytes, "\(method)")
            XCTAssertLessThanOrEqual(dataBytes - storage.bytes, 7 * 2 * 7, "\(method)")

            let (loaded, loadedMethod, _) = try Student.load(from: url)
            XCTAssertEqual(loadedMethod, method)
            // The saved model rounds its full-precision parts (and trained scales) to 16 bits.
            let saved = student.forward(tokens: inputs, targets: targets, batch: 3, length: 8)
            let reloaded = loaded.forward(tokens: inputs, targets: targets, batch: 3, length: 8)
            XCTAssertEqual(reloaded, saved, accuracy: 2e-3 * saved, "\(method)")
        }
    }

    func testLoadingRejectsDamagedStudents() throws {
        let teacher = tinyTeacher()
        let corpus = Corpus.synthetic(validationBytes: 2_000, seed: 2)
        let url = temporaryFile()
        try Student.save(Student.make(from: teacher, method: Method(BinaryMoS()), corpus: corpus, seed: 1), method: Method(BinaryMoS()), to: url)
        var file = try Safetensors.read(from: url)
        // Settings that do not match the tensors: three experts where four were stored.
        let wrong = Method(BinaryMoS(experts: 3))
        file.metadata["binarization"] = String(decoding: try JSONEncoder().encode(wrong), as: UTF8.self)
        let other = temporaryFile()
        try file.write(to: other)
        XCTAssertThrowsError(try Student.load(from: other)) { XCTAssertTrue("\($0)".contains("expected F16"), "\($0)") }
        file.metadata["binarization"] = "{\"name\":\"xnor\"}"
        try file.write(to: other)
        XCTAssertThrowsError(try Student.load(from: other)) { XCTAssertTrue("\($0)".contains("binarization settings"), "\($0)") }
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count - 3).write(to: other)
        XCTAssertThrowsError(try Student.load(from: other))
    }

    /// Router statistics travel as tensors in the checkpoint and come back as they were.
    func testRouterHistoryRoundTripsAsTensors() throws {
        let teacher = tinyTeacher()
        let corpus = Corpus.synthetic(validationBytes: 2_000, seed: 2)
        let method = Method(BinaryMoS(experts: 2))
        let history = RouterHistory([RouterSnapshot(step: 0, block: 0, layer: "q", normalizedEntropy: 0.75, usage: [0.5, 0.5]),
                                     RouterSnapshot(step: 10, block: 1, layer: "down", normalizedEntropy: 0.25, usage: [0.875, 0.125])])
        let url = temporaryFile()
        try Student.save(Student.make(from: teacher, method: method, corpus: corpus, seed: 1), method: method, to: url,
                         routerHistory: history)
        let file = try Safetensors.read(from: url)
        XCTAssertEqual(file.entries["router_history.usage"]?.shape, [2, 2])
        XCTAssertNil(file.metadata["router_history"])
        XCTAssertEqual(try RouterHistory(file), history)
        XCTAssertNoThrow(try Student.load(from: url), "the loader accepts the history's tensors")
    }

    /// The distillation loss's gradient (KL through the logits, hidden-state MSE
    /// injected at every block) against finite differences, on routers and
    /// scales: BinaryMoS's, and a rotated, distilled BTC's (through the rotation).
    func testDistillationGradientMatchesFiniteDifferences() {
        let teacher = tinyTeacher(seed: 4)
        let corpus = Corpus.synthetic(validationBytes: 2_000, seed: 5)
        for method in [Method(BinaryMoS(experts: 2)), Method(BTC(bitsPerWeight: 0.6, distill: true, transform: true))] {
            let student = Student.make(from: teacher, method: method, corpus: corpus, seed: 6)
            var rng = SeededGenerator(seed: 7)
            // Push the student away from the teacher and make the experts differ.
            let trained = student.parameters.filter { $0.trainable && !$0.name.hasSuffix(".weight") }
            for p in trained where p.name.hasPrefix("layers.") {
                for i in 0..<p.value.count { p.value[i] *= 1 + 0.3 * rng.normal() }
            }
            let (inputs, targets) = corpus.windows(at: [10, 300], length: 8)
            let objective = DistillationObjective()
            func loss() -> Double {
                let (kl, mse) = objective.lossAndGradients(student, teacher, inputs: inputs, targets: targets, batch: 2, length: 8)
                return kl + 10 * mse
            }
            student.zeroGradients()
            _ = loss()
            let analytic = trained.map(\.grad.array)
            for (index, p) in trained.enumerated() {
                for i in [0, p.value.count / 2, p.value.count - 1] {
                    let saved = p.value[i], eps: Float = 1e-2
                    p.value[i] = saved + eps; let plus = loss()
                    p.value[i] = saved - eps; let minus = loss()
                    p.value[i] = saved
                    let numeric = (plus - minus) / Double(2 * eps)
                    XCTAssertEqual(Double(analytic[index][i]), numeric, accuracy: 2e-3 + 3e-2 * abs(numeric), "\(method) \(p.name)[\(i)]")
                }
            }
        }
    }

    /// A short distillation moves a BinaryMoS student towards its teacher, and
    /// the same seed gives the same losses bit for bit.
    func testDistillationLowersTheLossReproducibly() {
        let teacher = tinyTeacher(seed: 8)
        let corpus = Corpus.synthetic(validationBytes: 2_000, seed: 9)
        var profile = Profile.named("smoke")!
        profile.model = tinyConfig(); profile.distillBatch = 4; profile.distillLearningRate = 3e-3
        func run() -> [Float] {
            let student = Student.make(from: teacher, method: Method(BinaryMoS()), corpus: corpus, seed: 10)
            return try! distill(student, teacher: teacher, corpus: corpus, profile: profile, steps: 40, seed: 11).map(\.loss)
        }
        let first = run(), second = run()
        XCTAssertEqual(first.map(\.bitPattern), second.map(\.bitPattern))
        let early = first.prefix(5).reduce(0, +) / 5, late = first.suffix(5).reduce(0, +) / 5
        XCTAssertLessThan(late, 0.8 * early)
    }

    /// A rate that blows up stops distillation at the step that went
    /// non-finite, naming it, before the weights take that step.
    func testDistillationStopsAtTheFirstNonFiniteStep() {
        let teacher = tinyTeacher(seed: 8)
        let corpus = Corpus.synthetic(validationBytes: 2_000, seed: 9)
        var profile = Profile.named("smoke")!
        profile.model = tinyConfig(); profile.distillBatch = 4; profile.distillLearningRate = 1e30
        let student = Student.make(from: teacher, method: Method(BinaryMoS()), corpus: corpus, seed: 10)
        XCTAssertThrowsError(try distill(student, teacher: teacher, corpus: corpus, profile: profile, steps: 40, seed: 11)) { error in
            let d = (error as? TrainingDiverged)?.divergence
            XCTAssertNotNil(d, "\(error)")
            XCTAssertGreaterThan(d?.step ?? 0, 1, "the first step is finite")
            XCTAssertTrue("\(error)".contains("diverged at step"), "\(error)")
        }
        for p in student.parameters { XCTAssertTrue(p.value.array.allSatisfy(\.isFinite), p.name) }
    }

    /// BTC distilled afterwards: the loss falls, the scales move, the signs
    /// (the codebook's) and the rotation stay as they were.
    func testDistilledCodebookTrainsItsScalesOnly() throws {
        for transform in [false, true] { try distilledCodebookTrainsItsScalesOnly(transform: transform) }
    }

    func distilledCodebookTrainsItsScalesOnly(transform: Bool) throws {
        let teacher = tinyTeacher(seed: 8)
        let corpus = Corpus.synthetic(validationBytes: 2_000, seed: 9)
        var profile = Profile.named("smoke")!
        profile.model = tinyConfig(); profile.distillBatch = 4; profile.distillLearningRate = 3e-3
        let method = Method(BTC(bitsPerWeight: 0.6, distill: true, transform: transform))
        XCTAssertTrue(method.isTrained)
        let student = Student.make(from: teacher, method: method, corpus: corpus, seed: 10)
        let layers = student.blocks.flatMap(\.linears).map { $0.layer as! DistilledCodebookLinear }
        let before = layers.map(\.code)
        let losses = try distill(student, teacher: teacher, corpus: corpus, profile: profile, steps: 40, seed: 11).map(\.loss)
        XCTAssertLessThan(losses.suffix(5).reduce(0, +), 0.9 * losses.prefix(5).reduce(0, +))
        for (layer, code) in zip(layers, before) {
            XCTAssertEqual(layer.trained.indices, code.indices)
            XCTAssertEqual(layer.trained.codebook, code.codebook)
            XCTAssertEqual(layer.trained.rotation, code.rotation)
            XCTAssertEqual(code.rotation == nil, !transform)
            XCTAssertNotEqual(layer.trained.inputScale, code.inputScale)
            for i in 0..<(code.rows * code.cols) {
                XCTAssertEqual(layer.layer.latent.value[i], code.sign(i / code.cols, i % code.cols))
            }
        }
    }

    /// Packed students compute what their float simulation does, up to the
    /// rounding of activations (to within 1e-4 of the loss with int16
    /// activations, 1e-2 with int8), and their packed layers hold exactly the
    /// accounted bytes (PB-LLM's sparse form and BiLLM's sign planes hold
    /// more; BTC's codebook is decoded into OneBit's sign bits).
    func testPackedStudentsMatchSimulationAndAccounting() throws {
        var c = ModelConfig()
        c.dim = 64; c.layers = 1; c.heads = 2; c.ffnHidden = 128; c.context = 8
        let teacher = TransformerModel(config: c, seed: 3)
        var rng = SeededGenerator(seed: 4)
        for p in teacher.parameters where p.value.shape.count == 2 { for i in 0..<p.value.count { p.value[i] = rng.normal() * 0.1 } }
        let corpus = Corpus.synthetic(validationBytes: 2_000, seed: 5)
        let (inputs, targets) = corpus.windows(at: [0, 50, 100, 150], length: 8)
        let methods: [any BinarizationMethod] = [SignWithScale(), OneBit(), BinaryMoS(), RoundToNearest(), GPTQ(), PBLLM(salient: 0.2),
                                                 BTC(bitsPerWeight: 0.6), BiLLM(), ARB(),
                                                 ARB(variant: .calibrated), ARB(variant: .rowColumn), BTC(bitsPerWeight: 0.6, distill: true),
                                                 BTC(bitsPerWeight: 0.6, transform: true), BTC(bitsPerWeight: 0.6, distill: true, transform: true)]
        for method in methods.map(Method.init) {
            let student = Student.make(from: teacher, method: method, corpus: corpus, seed: 6, calibrationWindows: 8)
            let url = temporaryFile()
            try Student.save(student, method: method, to: url)
            let (simulated, _, _) = try Student.load(from: url)
            let reference = simulated.forward(tokens: inputs, targets: targets, batch: 4, length: 8)
            var packed = simulated
            for precision in ActivationPrecision.allCases {
                (packed, _, _) = try Student.load(from: url)
                XCTAssertEqual(Student.pack(packed, precision: precision).packed, 7, "\(method)")
                let fast = packed.forward(tokens: inputs, targets: targets, batch: 4, length: 8)
                XCTAssertEqual(fast, reference, accuracy: (precision == .int16 ? 1e-4 : 1e-2) * reference,
                               "\(method) \(precision)")
                // Read straight into the kernels' layout: the same bytes, the same numbers.
                let direct = try Student.load(from: url, packed: precision).model
                XCTAssertEqual(Student.pack(direct, precision: precision).float, 0, "\(method)")
                for (a, b) in zip(direct.blocks.flatMap(\.linears), packed.blocks.flatMap(\.linears)) {
                    XCTAssertEqual(packedBytes(a.layer), packedBytes(b.layer), "\(method) \(a.name)")
                }
                XCTAssertEqual(direct.forward(tokens: inputs, targets: targets, batch: 4, length: 8).bitPattern, fast.bitPattern,
                               "\(method) \(precision)")
            }
            let accounted = Storage.model(ModelShape(c), method)
            if method.kind is PBLLM || method.kind is BiLLM || method.kind is ARB {
                XCTAssertGreaterThan(Student.linearBytesInMemory(packed), accounted.linearBits / 8)
            } else if let btc = method.kind as? BTC {
                // Decoded for OneBit's kernel: a bit a weight and the two scales, and the rotation's factors in Float.
                let rotations = packed.blocks.flatMap(\.linears).map { KroneckerRotation(identity: $0.layer.inFeatures) }
                    .reduce(0) { $0 + 4 * ($1.k1 * $1.k1 + $1.k2 * $1.k2) }
                XCTAssertEqual(Student.linearBytesInMemory(packed),
                               Storage.model(ModelShape(c), Method(OneBit())).linearBits / 8 + (btc.transform ? rotations : 0))
            } else {
                XCTAssertEqual(Student.linearBytesInMemory(packed), accounted.linearBits / 8, "\(method)")
            }
        }
    }

    /// The bytes a packed layer's kernel reads: signs or codes, and the 16-bit scales.
    func packedBytes(_ layer: LinearLayer) -> [UInt8] {
        switch layer {
        case let b as PackedBinaryLinear:
            let k = b.kernel
            let halves = (k.router ?? []) + (k.inputScale ?? []) + k.outputScale
            return Array(UnsafeBufferPointer(start: k.signs.bits, count: k.signs.byteCount))
                + halves.flatMap { [UInt8($0.bitPattern & 0xFF), UInt8($0.bitPattern >> 8)] }
        case let c as PackedInt2Linear:
            return Array(UnsafeBufferPointer(start: c.codes.codes, count: c.codes.rows * c.codes.rowBytes))
                + (c.codes.scales + c.codes.zeros).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        case let b as PackedResidualBinaryLinear:
            return b.planes.flatMap { Array(UnsafeBufferPointer(start: $0.bits, count: $0.byteCount)) }
                + (b.scales + b.salientWeights + b.columnScales).flatMap { withUnsafeBytes(of: $0.bitPattern) { Array($0) } }
        case let r as RotatedInputLinear:
            return packedBytes(r.inner) + (r.rotation.left + r.rotation.right).flatMap { withUnsafeBytes(of: $0.bitPattern) { Array($0) } }
        case let p as PackedPartialBinaryLinear:
            return Array(UnsafeBufferPointer(start: p.signs.bits, count: p.signs.byteCount))
                + (p.mean + p.alpha).flatMap { withUnsafeBytes(of: $0.bitPattern) { Array($0) } }
        default:
            XCTFail("\(type(of: layer)) is not packed")
            return []
        }
    }
}
