import Kernels

// Token embedding: row `token` of the table [vocabulary, dim].

/// out: [rows, dim]
public func embeddingForward(_ out: FloatPointer, _ tokens: [Int32], _ table: ConstFloatPointer, dim: Int) {
    let probe = StepProfile.probe(.embedding); defer { probe.end() }
    tokens.withUnsafeBufferPointer { tok in
        parallelChunks(tok.count, minimumChunk: 256) { range in
            for r in range { (out + r * dim).update(from: table + Int(tok[r]) * dim, count: dim) }
        }
    }
}

/// dtable[token] += dout[row]. Sequential: rows sharing a token add into the
/// same table row, and a fixed order keeps the sum reproducible.
public func embeddingBackward(_ dtable: FloatPointer, _ dout: ConstFloatPointer, _ tokens: [Int32], dim: Int) {
    let probe = StepProfile.probe(.embedding); defer { probe.end() }
    for (r, token) in tokens.enumerated() {
        let d = dtable + Int(token) * dim, g = dout + r * dim
        for i in 0..<dim { d[i] += g[i] }
    }
}
