import CBLAS

/// LAPACK through OpenBLAS, on a symmetric positive definite matrix [n, n]
/// (row-major; being symmetric, row- and column-major agree on the input).
public enum Cholesky {
    /// The upper factor U with A = Uᵀ U, or nil when A is not positive definite.
    public static func upper(_ a: [Double], n: Int) -> [Double]? {
        // LAPACK is column-major: its lower factor L (A = L Lᵀ), read row-major, is Lᵀ = U.
        guard var f = lapack(dpotrf_, a, n: n) else { return nil }
        for r in 0..<n { for c in 0..<r { f[r * n + c] = 0 } }   // LAPACK leaves this part as it was
        return f
    }

    /// A⁻¹, or nil when A is not positive definite.
    public static func inverse(_ a: [Double], n: Int) -> [Double]? {
        guard let factor = lapack(dpotrf_, a, n: n), var f = lapack(dpotri_, factor, n: n) else { return nil }
        // Only the row-major upper triangle is filled: mirror it.
        for r in 0..<n { for c in 0..<r { f[r * n + c] = f[c * n + r] } }
        return f
    }

    typealias Routine = (UnsafePointer<CChar>?, UnsafePointer<Int32>?, UnsafeMutablePointer<Double>?,
                         UnsafePointer<Int32>?, UnsafeMutablePointer<Int32>?, Int) -> Void

    /// Runs a LAPACK routine on the lower triangle (column-major) of a copy of `a`.
    private static func lapack(_ routine: Routine, _ a: [Double], n: Int) -> [Double]? {
        var f = a
        var info: Int32 = 0, size = Int32(n)
        var uplo = CChar(UInt8(ascii: "L"))
        routine(&uplo, &size, &f, &size, &info, 1)
        return info == 0 ? f : nil
    }
}

/// Naive reference: the upper Cholesky factor by the textbook recurrence.
public func naiveCholeskyUpper(_ a: [Double], n: Int) -> [Double]? {
    var u = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
        var d = a[i * n + i]
        for k in 0..<i { d -= u[k * n + i] * u[k * n + i] }
        guard d > 0 else { return nil }
        u[i * n + i] = d.squareRoot()
        for j in (i + 1)..<max(i + 1, n) {
            var s = a[i * n + j]
            for k in 0..<i { s -= u[k * n + i] * u[k * n + j] }
            u[i * n + j] = s / u[i * n + i]
        }
    }
    return u
}
