import Kernels
import Corpus
import Transformer

/// How far one quantized layer's outputs are from the teacher's, on inputs
/// it was not calibrated on: ‖Ŵx − Wx‖² / ‖Wx‖² summed over the layer's
/// inputs on validation windows. This is the quantity GPTQ minimizes (on its
/// calibration inputs), so it is the check that GPTQ and PB-LLM's
/// compensation do their job, independent of perplexity.
///
/// Which inputs: the teacher's (the same x for every student, so students
/// compare directly), or the student's own, with the blocks and layers before
/// it already quantized. GPTQ calibrates on the latter, so a layer can fit
/// its own inputs better and the teacher's worse.
public struct LayerError: Sendable {
    public var block: Int
    public var layer: String          // q, k, v, o, gate, up, down
    public var relative: Double
}

public enum LayerInputs: Sendable { case teacher, own }

/// The relative output error of every block layer of `student` against
/// `teacher`, on `windows` validation windows.
public func layerErrors(_ student: TransformerModel, teacher: TransformerModel, corpus: Corpus,
                        windows: Int = 16, inputs source: LayerInputs = .teacher) -> [LayerError] {
    let length = teacher.config.context
    let starts = corpus.validationWindows(length: length, limit: windows)
    let (inputs, targets) = corpus.windows(at: starts, length: length)
    let reader = source == .teacher ? teacher : student
    reader.forward(tokens: inputs, targets: targets, batch: starts.count, length: length)
    let rows = reader.lastRows
    var errors: [LayerError] = []
    for (l, (taught, block)) in zip(teacher.blocks, student.blocks).enumerated() {
        let x = reader.linearInputs(block: l)
        for ((name, reference), (_, quantized)) in zip(taught.linears, block.linears) {
            let n = reference.outFeatures
            let want = Tensor([rows, n]), got = Tensor([rows, n])
            reference.forward(want.data, x[name]!, rows: rows)
            quantized.forward(got.data, x[name]!, rows: rows)
            var error = 0.0, norm = 0.0
            for i in 0..<(rows * n) {
                let d = Double(got[i] - want[i])
                error += d * d
                norm += Double(want[i]) * Double(want[i])
            }
            errors.append(LayerError(block: l, layer: name, relative: error / max(norm, .leastNormalMagnitude)))
        }
    }
    return errors
}
