import Foundation
import Kernels

// RMSNorm: y = x / rms(x) · g, rms(x) = sqrt(mean(x²) + ε). No mean, no bias.

/// out, x: [rows, dim]; gain: [dim]; rstd: [rows], saved for backward (1 / rms).
public func rmsnormForward(_ out: FloatPointer, _ rstd: FloatPointer, _ x: ConstFloatPointer,
                           _ gain: ConstFloatPointer, rows: Int, dim: Int, epsilon: Float) {
    let probe = StepProfile.probe(.norm); defer { probe.end() }
    parallelChunks(rows, minimumChunk: 64) { range in
        for r in range {
            let xr = x + r * dim, yr = out + r * dim
            let s = 1 / (dotProduct(xr, xr, count: dim) / Float(dim) + epsilon).squareRoot()
            rstd[r] = s
            for i in 0..<dim { yr[i] = xr[i] * s * gain[i] }
        }
    }
}

/// dx[rows, dim] += ∂L/∂x; dgain[dim] += ∂L/∂g (summed over rows in a fixed order).
/// With a = dy ⊙ g:  dx = s·a − x · s³ · mean(a ⊙ x).
public func rmsnormBackward(_ dx: FloatPointer, _ dgain: FloatPointer?, _ dout: ConstFloatPointer,
                            _ x: ConstFloatPointer, _ gain: ConstFloatPointer, _ rstd: ConstFloatPointer,
                            rows: Int, dim: Int) {
    let probe = StepProfile.probe(.norm); defer { probe.end() }
    parallelChunks(rows, minimumChunk: 64) { range in
        for r in range {
            let xr = x + r * dim, dyr = dout + r * dim, dxr = dx + r * dim
            let s = rstd[r]
            let c = s * s * s * tripleProduct(dyr, gain, xr, count: dim) / Float(dim)
            for i in 0..<dim { dxr[i] += s * dyr[i] * gain[i] - xr[i] * c }
        }
    }
    guard let dgain else { return }
    // The gain's gradient sums over rows: split over features so each thread
    // owns a slice and the row order of the sum never changes.
    parallelChunks(dim, minimumChunk: 16) { range in
        for r in 0..<rows {
            let xr = x + r * dim, dyr = dout + r * dim, s = rstd[r]
            for i in range { dgain[i] += dyr[i] * xr[i] * s }
        }
    }
}
