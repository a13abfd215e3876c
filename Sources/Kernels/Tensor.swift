#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A float32 buffer with a shape: the storage behind every parameter,
/// gradient and activation. Row-major; the last dimension is contiguous.
/// A class, so layers can hold and share buffers without copies.
public final class Tensor {
    public let shape: [Int]
    public let count: Int
    public let data: FloatPointer
    private let block: UnsafeMutableRawPointer

    /// Zeros. From calloc, whose large blocks are pages the system zeroes
    /// when first touched: a gradient that inference never writes costs
    /// neither time nor memory. The data starts on a 64-byte line (calloc's
    /// large blocks start 16 bytes past a page), so that no 64-byte vector
    /// of an aligned row straddles two lines.
    public init(_ shape: [Int]) {
        self.shape = shape
        count = shape.reduce(1, *)
        guard let zeros = calloc(max(count, 1) + 16, MemoryLayout<Float>.stride) else {
            fatalError("out of memory for a tensor of shape \(shape)")
        }
        block = zeros
        data = zeros.advanced(by: (64 - Int(bitPattern: zeros) % 64) % 64).bindMemory(to: Float.self, capacity: max(count, 1))
    }

    public convenience init(_ shape: [Int], values: [Float]) {
        self.init(shape)
        precondition(values.count == count, "Tensor: \(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit { free(block) }

    public var array: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }
    public var pointer: ConstFloatPointer { UnsafePointer(data) }

    public func zero() { data.update(repeating: 0, count: count) }
    public func copy(from other: Tensor) {
        precondition(other.count == count)
        data.update(from: other.data, count: count)
    }
    public subscript(i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }
}
