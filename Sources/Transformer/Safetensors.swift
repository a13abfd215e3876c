import Files
import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range, then the raw bytes.
/// String metadata goes under the header key "__metadata__". Files written here
/// load with Python's `safetensors` and numpy.
public struct Safetensors {
    public struct Entry {
        public var dtype: String        // "F32", "U8", "I32", ...
        public var shape: [Int]
        public var bytes: Data
        public init(dtype: String, shape: [Int], bytes: Data) {
            self.dtype = dtype; self.shape = shape; self.bytes = bytes
        }
    }

    public var metadata: [String: String] = [:]
    public private(set) var names: [String] = []   // file order
    public private(set) var entries: [String: Entry] = [:]

    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    static let elementSize = ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2,
                              "I8": 1, "U8": 1, "BOOL": 1]

    public mutating func add(_ name: String, _ entry: Entry) {
        if entries[name] == nil { names.append(name) }
        entries[name] = entry
    }

    public mutating func add(_ name: String, floats: UnsafeBufferPointer<Float>, shape: [Int]) {
        add(name, .floats(floats, shape: shape))
    }

    /// The serialised file: header, padded with spaces to a multiple of 8, then data.
    public func encoded() -> Data {
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            let e = entries[name]!
            let shape = e.shape.map(String.init).joined(separator: ",")
            fields.append("\(jsonString(name)):{\"dtype\":\"\(e.dtype)\",\"shape\":[\(shape)],"
                          + "\"data_offsets\":[\(offset),\(offset + e.bytes.count)]}")
            offset += e.bytes.count
        }
        var header = Data(("{" + fields.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var file = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(header)
        for name in names { file.append(entries[name]!.bytes) }
        return file
    }

    /// Written atomically: never a half-written file, and never a folder replaced.
    public func write(to url: URL) throws { try AtomicFile.write(encoded(), to: url) }

    /// Parses and validates a file; every problem is a `FileError` naming the file.
    public static func read(from url: URL) throws -> Safetensors {
        let path = url.path
        guard let file = FileManager.default.contents(atPath: path) else {
            throw FileError(path: path, problem: "cannot be read (missing or not a file)")
        }
        return try decode(file, path: path)
    }

    public static func decode(_ file: Data, path: String) throws -> Safetensors {
        func fail(_ problem: String) -> FileError { FileError(path: path, problem: problem) }
        guard file.count >= 8 else { throw fail("is truncated: \(file.count) bytes, no header") }
        let headerLength = file.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(file.count - 8) else {
            // A text file reads as a header longer than any file: not a truncated checkpoint.
            throw headerLength > 1 << 32 ? fail("is not a safetensors file")
                : fail("is truncated: header says \(headerLength) bytes, file has \(file.count - 8) after the length")
        }
        let headerEnd = 8 + Int(headerLength)
        guard let json = try? JSONSerialization.jsonObject(with: file.subdata(in: 8..<headerEnd)),
              let header = json as? [String: Any] else {
            throw fail("has a malformed header (not a JSON object)")
        }
        var result = Safetensors()
        result.path = path
        if let meta = header["__metadata__"] {
            guard let strings = meta as? [String: String] else { throw fail("has non-string __metadata__") }
            result.metadata = strings
        }
        let dataSize = file.count - headerEnd
        var spans: [(name: String, start: Int, end: Int, entry: Entry)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int],
                  offsets.count == 2 else {
                throw fail("has a malformed entry for tensor '\(name)'")
            }
            guard let size = elementSize[dtype] else { throw fail("uses unknown dtype \(dtype) for '\(name)'") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("has a negative dimension in '\(name)'") }
            let (start, end) = (offsets[0], offsets[1])
            guard 0 <= start, start <= end, end <= dataSize else {
                throw fail("is truncated or corrupt: tensor '\(name)' spans bytes \(start)..<\(end) of \(dataSize)")
            }
            let bytes = shape.reduce((size, false)) { r, d in     // overflow-checked: shapes come from the file
                let p = r.0.multipliedReportingOverflow(by: d); return (p.partialValue, r.1 || p.overflow)
            }
            guard !bytes.1, end - start == bytes.0 else {
                throw fail("has tensor '\(name)' whose \(end - start) bytes do not fit shape \(shape) of \(dtype)")
            }
            spans.append((name, start, end, Entry(dtype: dtype, shape: shape,
                                                  bytes: file.subdata(in: (headerEnd + start)..<(headerEnd + end)))))
        }
        for span in spans.sorted(by: { ($0.start, $0.name) < ($1.start, $1.name) }) {
            result.add(span.name, span.entry)
        }
        return result
    }

    /// Bytes of tensor data.
    public var dataBytes: Int { entries.values.reduce(0) { $0 + $1.bytes.count } }

    /// Where the file was read from, for error messages ("" when built in memory).
    public var path = ""

    /// The entry as float32 values, checking dtype (F32, or F16 widened) and shape.
    public func floats(_ name: String, shape: [Int], path: String? = nil) throws -> [Float] {
        let e = try entry(name, dtypes: ["F32", "F16"], shape: shape, path: path)
        return e.bytes.withUnsafeBytes { raw in
            if e.dtype == "F16" {
                return (0..<(e.bytes.count / 2)).map {
                    Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))))
                }
            }
            return (0..<(e.bytes.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
            }
        }
    }

    /// An F16 entry as float32 values.
    public func halves(_ name: String, shape: [Int]) throws -> [Float] {
        _ = try entry(name, dtypes: ["F16"], shape: shape, path: nil)
        return try floats(name, shape: shape)
    }

    /// An I32 entry as integers.
    public func ints(_ name: String, shape: [Int]) throws -> [Int32] {
        let e = try entry(name, dtypes: ["I32"], shape: shape, path: nil)
        return e.bytes.withUnsafeBytes { raw in
            (0..<(e.bytes.count / 4)).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
        }
    }

    /// A U8 entry of `count` bytes (packed bits or codes).
    public func bytes(_ name: String, count: Int) throws -> [UInt8] { try bytes(name, shape: [count]) }

    public func bytes(_ name: String, shape: [Int]) throws -> [UInt8] {
        [UInt8](try entry(name, dtypes: ["U8"], shape: shape, path: nil).bytes)
    }

    private func entry(_ name: String, dtypes: [String], shape: [Int], path: String?) throws -> Entry {
        let path = path ?? self.path
        guard let e = entries[name] else { throw FileError(path: path, problem: "has no tensor '\(name)'") }
        guard dtypes.contains(e.dtype), e.shape == shape else {
            throw FileError(path: path, problem: "has '\(name)' as \(e.dtype) \(e.shape), "
                                   + "expected \(dtypes.joined(separator: " or ")) \(shape)")
        }
        return e
    }
}

extension Safetensors.Entry {
    /// Raw bytes (packed bits or codes) as a U8 vector.
    public static func bytes(_ b: [UInt8]) -> Self { .init(dtype: "U8", shape: [b.count], bytes: Data(b)) }

    /// Values stored as 16-bit floats.
    public static func halves(_ values: [Float], shape: [Int]) -> Self {
        var data = Data(capacity: 2 * values.count)
        for v in values { withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return .init(dtype: "F16", shape: shape, bytes: data)
    }

    /// Values stored as 32-bit integers.
    public static func ints(_ values: [Int32], shape: [Int]) -> Self {
        var data = Data(capacity: 4 * values.count)
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        return .init(dtype: "I32", shape: shape, bytes: data)
    }

    /// Values stored as 32-bit floats.
    public static func floats(_ values: UnsafeBufferPointer<Float>, shape: [Int]) -> Self {
        .init(dtype: "F32", shape: shape, bytes: Data(buffer: values))
    }
}


/// A JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
