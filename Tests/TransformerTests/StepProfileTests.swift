import XCTest
import Foundation
import Corpus
import Kernels
@testable import Transformer

final class StepProfileTests: XCTestCase {
    /// Probed training steps: every kind of work a step does is counted, and
    /// the kinds together never exceed the wall time (no moment counted twice).
    func testKindsCoverAStepWithoutCountingTwice() {
        let corpus = Corpus.synthetic(validationBytes: 2_000, seed: 3)
        var profile = Profile.named("smoke")!
        profile.model = tinyConfig()
        let model = TransformerModel(config: profile.model, seed: 11)
        StepProfile.start()
        let start = Date()
        _ = train(model, corpus: corpus, profile: profile, steps: 3, seed: 5, checks: 0)
        let wall = Date().timeIntervalSince(start), seconds = StepProfile.stop()
        for kind: StepProfile.Kind in [.linearForward, .linearBackwardData, .linearBackwardWeight, .attention, .norm,
                                       .rotary, .swiglu, .loss, .embedding, .residual, .optimizer] {
            XCTAssertGreaterThan(seconds[kind]!, 0, kind.rawValue)
        }
        XCTAssertEqual(seconds[.teacher], 0)
        XCTAssertLessThanOrEqual(seconds.values.reduce(0, +), wall)
    }

    /// The outermost probe takes the time: a product inside "teacher forward" is the teacher's.
    func testTheOutermostProbeCounts() {
        let n = 64
        let a = Tensor([n, n]), b = Tensor([n, n]), c = Tensor([n, n])
        StepProfile.start()
        StepProfile.measure(.teacher) {
            matmulForward(c.data, a.pointer, b.pointer, rows: n, inFeatures: n, outFeatures: n)
        }
        var seconds = StepProfile.stop()
        XCTAssertGreaterThan(seconds[.teacher]!, 0)
        XCTAssertEqual(seconds[.linearForward], 0)
        // Stopped, nothing is counted.
        matmulForward(c.data, a.pointer, b.pointer, rows: n, inFeatures: n, outFeatures: n)
        StepProfile.start()
        seconds = StepProfile.stop()
        XCTAssertEqual(seconds.values.reduce(0, +), 0)
    }
}
