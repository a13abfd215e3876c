import Kernels
import Transformer

/// B-bit asymmetric group quantization (the 2-bit baselines, RTN and GPTQ):
/// along each row, every `groupSize` consecutive weights share a scale and a
/// zero point; a weight is stored as its code q ∈ {0 … 2^B − 1} and stands
/// for scale · (q − zero). Scale and zero are kept in 16 bits, so B = 2 with
/// groups of 128 costs 2 + 32/128 = 2.25 bits per weight.
public struct GroupCode: WeightCode {
    public let rows: Int, cols: Int, bits: Int, groupSize: Int
    public var codes: [UInt8]             // [rows, cols], one code per weight
    public var scales: [Float]            // [rows, groups]
    public var zeros: [Float]             // [rows, groups], whole numbers

    public var groups: Int { (cols + groupSize - 1) / groupSize }

    /// The group size used on a layer `cols` wide: the requested one, or the
    /// layer's width when that is smaller.
    public static func groupSize(_ requested: Int, cols: Int) -> Int { min(requested, cols) }

    // region: rtn
    /// Round to nearest (RTN): every group's range from its own weights.
    public init(roundingToNearest w: ConstFloatPointer, rows: Int, cols: Int, bits: Int, groupSize: Int) {
        self.init(rows: rows, cols: cols, bits: bits, groupSize: groupSize)
        for r in 0..<rows {
            for g in 0..<groups {
                let range = groupRange(g)
                let values = range.map { w[r * cols + $0] }
                setGroup(row: r, group: g, values: values)
                for (k, c) in range.enumerated() { codes[r * cols + c] = code(values[k], row: r, group: g) }
            }
        }
    }
    // end region: rtn

    // region: gptq
    /// GPTQ: columns in order with error compensation; a group's range is taken
    /// from the compensated weights when its first column comes up.
    public init(gptq weight: ConstFloatPointer, rows: Int, cols: Int, bits: Int, groupSize: Int,
                hessian: InverseHessian) {
        self.init(rows: rows, cols: cols, bits: bits, groupSize: groupSize)
        var w = Array(UnsafeBufferPointer(start: weight, count: rows * cols))
        gptqColumns(&w, rows: rows, cols: cols, hessian) { i, column, current in
            let g = i / self.groupSize
            if i % self.groupSize == 0 {
                for r in 0..<rows { self.setGroup(row: r, group: g, values: self.groupRange(g).map { current[r * cols + $0] }) }
            }
            return (0..<rows).map { r in
                let q = self.code(column[r], row: r, group: g)
                self.codes[r * cols + i] = q
                return self.value(q, row: r, group: g)
            }
        }
    }
    // end region: gptq

    init(rows: Int, cols: Int, bits: Int, groupSize: Int) {
        self.rows = rows; self.cols = cols; self.bits = bits
        self.groupSize = Self.groupSize(groupSize, cols: cols)
        codes = [UInt8](repeating: 0, count: rows * cols)
        let groups = (cols + self.groupSize - 1) / self.groupSize
        scales = [Float](repeating: 1, count: rows * groups)
        zeros = [Float](repeating: 0, count: rows * groups)
    }

    func groupRange(_ g: Int) -> Range<Int> { (g * groupSize)..<min(cols, (g + 1) * groupSize) }

    // region: group-range
    /// GPTQ's min–max range, widened to include 0 so that 0 is representable.
    mutating func setGroup(row r: Int, group g: Int, values: [Float]) {
        let lo = min(values.min() ?? 0, 0), hi = max(values.max() ?? 0, 0)
        let levels = Float(1 << bits - 1)
        let scale = hi > lo ? Float(Float16((hi - lo) / levels)) : 1
        scales[r * groups + g] = scale > 0 ? scale : 1
        zeros[r * groups + g] = min(levels, max(0, (-lo / scales[r * groups + g]).rounded()))
    }
    // end region: group-range

    func code(_ w: Float, row r: Int, group g: Int) -> UInt8 {
        let q = (w / scales[r * groups + g]).rounded() + zeros[r * groups + g]
        return UInt8(min(Float(1 << bits - 1), max(0, q)))
    }

    func value(_ q: UInt8, row r: Int, group g: Int) -> Float {
        scales[r * groups + g] * (Float(q) - zeros[r * groups + g])
    }

    public func dequantized() -> [Float] {
        (0..<(rows * cols)).map { i in value(codes[i], row: i / cols, group: (i % cols) / groupSize) }
    }

    public func tensors(prefix: String) -> [(name: String, entry: Safetensors.Entry)] {
        [(prefix + "codes", .bytes(packCodes(codes, bits: bits))),
         (prefix + "group_scale", .halves(scales, shape: [rows, groups])),
         (prefix + "group_zero", .halves(zeros, shape: [rows, groups]))]
    }

    public static func load(_ file: Safetensors, prefix: String, rows: Int, cols: Int, bits: Int,
                            groupSize: Int) throws -> GroupCode {
        var c = GroupCode(rows: rows, cols: cols, bits: bits, groupSize: groupSize)
        let packed = try file.bytes(prefix + "codes", count: (rows * cols * bits + 7) / 8)
        c.codes = unpackCodes(packed, bits: bits, count: rows * cols)
        c.scales = try file.halves(prefix + "group_scale", shape: [rows, c.groups])
        c.zeros = try file.halves(prefix + "group_zero", shape: [rows, c.groups])
        return c
    }
}
