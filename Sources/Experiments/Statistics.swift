import Foundation

/// Mean and sample standard deviation (0 for a single value; NaN for none).
public func meanAndDeviation(_ x: [Double]) -> (mean: Double, std: Double) {
    guard !x.isEmpty else { return (.nan, .nan) }
    let mean = x.reduce(0, +) / Double(x.count)
    guard x.count > 1 else { return (mean, 0) }
    return (mean, (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count - 1)).squareRoot())
}

/// The 97.5 % quantile of Student's t with `df` degrees of freedom: the factor
/// of a two-sided 95 % interval. Exact table values to 30 degrees of freedom
/// (any statistics text has them); beyond, the Cornish–Fisher expansion about
/// the normal quantile, which is within 10⁻⁴ there.
public func studentT975(df: Int) -> Double {
    precondition(df >= 1)
    let table = [12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
                 2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
                 2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423]
    if df <= table.count { return table[df - 1] }
    let z = 1.959964, n = Double(df)
    return z + (z * z * z + z) / (4 * n) + (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * n * n)
}

/// Mean of a sample with its 95 % confidence interval (Student's t).
public struct Estimate: Codable, Sendable, Equatable {
    public var count: Int
    public var mean: Double
    public var std: Double
    /// Half the interval's width: t₀.₉₇₅ · std / √count (NaN below two values).
    public var halfWidth: Double

    public init(_ x: [Double]) {
        count = x.count
        (mean, std) = meanAndDeviation(x)
        halfWidth = x.count >= 2 ? studentT975(df: x.count - 1) * std / Double(x.count).squareRoot() : .nan
    }

    public var low: Double { mean - halfWidth }
    public var high: Double { mean + halfWidth }
    /// The interval excludes zero: the sign of the mean is resolved.
    public var resolved: Bool { halfWidth.isFinite && (low > 0 || high < 0) }
}

/// The share of OneBit's gap to the teacher that another setting closes, in
/// percent, seed by seed: 100 · (p₁ − p) / (p₁ − p_teacher), over the seeds
/// both ran where OneBit is above the teacher (elsewhere there is no gap).
public func gapClosed(onebit: [UInt64: Double], _ other: [UInt64: Double], teacher: Double) -> Estimate {
    Estimate(onebit.keys.sorted().compactMap { seed in
        guard let p1 = onebit[seed], p1 > teacher, let p = other[seed] else { return nil }
        return 100 * (p1 - p) / (p1 - teacher)
    })
}

/// The per-seed difference `b − a` over the seeds both settings ran: the
/// pairing removes what a seed does to both (its data order, its start), so
/// a smaller difference can be told from noise than with unpaired means.
public func pairedDifference(_ a: [UInt64: Double], _ b: [UInt64: Double]) -> Estimate {
    Estimate(a.keys.sorted().compactMap { seed in b[seed].map { $0 - a[seed]! } })
}
