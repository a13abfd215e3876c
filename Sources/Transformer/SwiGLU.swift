import Foundation
import Kernels

// SwiGLU: m = silu(gate) ⊙ up, silu(z) = z · σ(z). The MLP is
// down(silu(gate(h)) ⊙ up(h)). Eight at a time, with the vectorized exp.

/// out, gate, up: [count] (flattened [rows, ffnHidden]).
public func swigluForward(_ out: FloatPointer, _ gate: ConstFloatPointer, _ up: ConstFloatPointer, count: Int) {
    let probe = StepProfile.probe(.swiglu); defer { probe.end() }
    @inline(__always) func silu(_ z: SIMD8<Float>) -> SIMD8<Float> { z / (1 + fastExp(-z)) }
    parallelChunks(count, minimumChunk: 4096) { range in
        var i = range.lowerBound
        while i + 8 <= range.upperBound {       // eight at a time, the tail one by one with the same exp
            (out + i).store8(silu((gate + i).load8()) * (up + i).load8())
            i += 8
        }
        for j in i..<range.upperBound { out[j] = silu(SIMD8(repeating: gate[j]))[0] * up[j] }
    }
}

/// dgate = dout ⊙ up ⊙ silu'(gate), dup = dout ⊙ silu(gate);
/// silu'(z) = σ(z) · (1 + z · (1 − σ(z))).
public func swigluBackward(_ dgate: FloatPointer, _ dup: FloatPointer, _ dout: ConstFloatPointer,
                           _ gate: ConstFloatPointer, _ up: ConstFloatPointer, count: Int) {
    let probe = StepProfile.probe(.swiglu); defer { probe.end() }
    @inline(__always) func step(_ z: SIMD8<Float>, _ d: SIMD8<Float>, _ u: SIMD8<Float>)
        -> (dgate: SIMD8<Float>, dup: SIMD8<Float>) {
        let sigma = 1 / (1 + fastExp(-z))
        return (d * u * sigma * (1 + z * (1 - sigma)), d * z * sigma)
    }
    parallelChunks(count, minimumChunk: 4096) { range in
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            let (g, u) = step((gate + i).load8(), (dout + i).load8(), (up + i).load8())
            (dgate + i).store8(g); (dup + i).store8(u)
            i += 8
        }
        for j in i..<range.upperBound {
            let (g, u) = step(SIMD8(repeating: gate[j]), SIMD8(repeating: dout[j]), SIMD8(repeating: up[j]))
            dgate[j] = g[0]; dup[j] = u[0]
        }
    }
}
