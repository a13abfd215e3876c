/// A float32 buffer with a shape: the storage behind every parameter,
/// gradient and activation. Row-major; the last dimension is contiguous.
/// A class, so layers can hold and share buffers without copies.
public final class Tensor {
    public let shape: [Int]
    public let count: Int
    public let data: FloatPointer

    public init(_ shape: [Int]) {
        self.shape = shape
        count = shape.reduce(1, *)
        data = .allocate(capacity: max(count, 1))
        data.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ shape: [Int], values: [Float]) {
        self.init(shape)
        precondition(values.count == count, "Tensor: \(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit { data.deallocate() }

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
