import Foundation
import Kernels

// SwiGLU: m = silu(gate) ⊙ up, silu(z) = z · σ(z). The MLP is
// down(silu(gate(h)) ⊙ up(h)).

/// out, gate, up: [count] (flattened [rows, ffnHidden]).
public func swigluForward(_ out: FloatPointer, _ gate: ConstFloatPointer, _ up: ConstFloatPointer, count: Int) {
    let probe = StepProfile.probe(.swiglu); defer { probe.end() }
    parallelChunks(count, minimumChunk: 4096) { range in
        for i in range {
            let z = gate[i]
            out[i] = z / (1 + exp(-z)) * up[i]
        }
    }
}

/// dgate = dout ⊙ up ⊙ silu'(gate), dup = dout ⊙ silu(gate);
/// silu'(z) = σ(z) · (1 + z · (1 − σ(z))).
public func swigluBackward(_ dgate: FloatPointer, _ dup: FloatPointer, _ dout: ConstFloatPointer,
                           _ gate: ConstFloatPointer, _ up: ConstFloatPointer, count: Int) {
    let probe = StepProfile.probe(.swiglu); defer { probe.end() }
    parallelChunks(count, minimumChunk: 4096) { range in
        for i in range {
            let z = gate[i]
            let sigma = 1 / (1 + exp(-z))
            dgate[i] = dout[i] * up[i] * sigma * (1 + z * (1 - sigma))
            dup[i] = dout[i] * z * sigma
        }
    }
}
