import CBLAS

/// The orthogonal Procrustes problem: of all orthogonal R [n, n], the one
/// that maximises tr(Rᵀ C), which is also the one that minimises ‖A R − B‖
/// when C = Aᵀ B. With C = U Σ Vᵀ it is R = U Vᵀ, the orthogonal factor of C
/// (Schönemann, 1966). Row-major in and out; nil if LAPACK fails.
public func procrustesRotation(_ c: [Double], n: Int) -> [Double]? {
    precondition(c.count == n * n && n > 0)
    // LAPACK reads the row-major C as Cᵀ = U' Σ V'ᵀ (column-major); the factor
    // of C is then (U' V'ᵀ)ᵀ, which is U' V'ᵀ computed column-major and read row-major.
    var a = c, s = [Double](repeating: 0, count: n), u = a, vt = a
    var size = Int32(n), info: Int32 = 0, lwork: Int32 = -1, query = 0.0
    var all = CChar(UInt8(ascii: "A"))
    dgesvd_(&all, &all, &size, &size, &a, &size, &s, &u, &size, &vt, &size, &query, &lwork, &info, 1, 1)
    guard info == 0 else { return nil }
    lwork = Int32(query)
    var work = [Double](repeating: 0, count: Int(lwork))
    dgesvd_(&all, &all, &size, &size, &a, &size, &s, &u, &size, &vt, &size, &work, &lwork, &info, 1, 1)
    guard info == 0 else { return nil }
    var r = [Double](repeating: 0, count: n * n)
    for j in 0..<n { for i in 0..<n {
        var sum = 0.0
        for k in 0..<n { sum += u[i + k * n] * vt[k + j * n] }
        r[j * n + i] = sum
    } }
    return r
}
