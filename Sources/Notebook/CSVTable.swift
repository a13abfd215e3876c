import Files
import Foundation

/// A table of measurements as chapters write it and the report reads it back:
/// a header row of column names, then rows of text fields.
///
/// Files follow RFC 4180: fields holding a comma, a double quote or a line
/// break are quoted, and quotes inside them are doubled. Lines end in "\n"
/// (gnuplot and most tools prefer it); the reader accepts "\r\n" as well.
public struct CSVTable: Equatable {
    public var columns: [String]
    public private(set) var rows: [[String]]

    public init(columns: [String]) {
        self.columns = columns
        self.rows = []
    }

    /// Appends one row. Numbers are written so that they read back to the
    /// same value (see `format`); everything else by its description.
    public mutating func append(_ row: [CustomStringConvertible]) {
        precondition(row.count == columns.count,
                     "CSV row has \(row.count) fields but the table has \(columns.count) columns \(columns)")
        rows.append(row.map(CSVTable.field))
    }

    /// The values of one column, or nil when there is no column of that name.
    public func column(_ name: String) -> [String]? {
        guard let index = columns.firstIndex(of: name) else { return nil }
        return rows.map { $0[index] }
    }

    // MARK: Numbers

    /// A Double as text. Without `digits` it is the shortest text that reads
    /// back to exactly the same Double ("0.1", not "0.1000000000000000055");
    /// with `digits` it is rounded to that many significant digits for people.
    public static func format(_ x: Double, digits: Int? = nil) -> String {
        guard let digits else { return x.description }
        guard x.isFinite else { return x.description }
        return String(format: "%.\(max(1, digits))g", x)
    }

    private static func field(_ value: CustomStringConvertible) -> String {
        switch value {
        // Float keeps its own shortest form: widening to Double first would
        // print 0.1 as 0.10000000149011612.
        case let x as Float: return x.description
        case let x as Double: return format(x)
        default: return value.description
        }
    }

    // MARK: Writing

    /// The whole table as CSV text.
    public var text: String {
        var out = CSVTable.line(columns)
        for row in rows { out += CSVTable.line(row) }
        return out
    }

    public func write(to url: URL) throws {
        try AtomicFile.write(text, to: url)
    }

    private static func line(_ fields: [String]) -> String {
        fields.map(quoted).joined(separator: ",") + "\n"
    }

    private static func quoted(_ field: String) -> String {
        let needsQuotes = field.contains { $0 == "," || $0 == "\"" || $0.isNewline }
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: Reading

    public static func read(from url: URL) throws -> CSVTable {
        try parse(try TextFile.read(url), file: url.path)
    }

    /// Parses CSV text; `file` only names the source in error messages.
    public static func parse(_ text: String, file: String = "<text>") throws -> CSVTable {
        var records = try CSVParser(text: text, file: file).records()
        guard !records.isEmpty else {
            throw CSVError(file: file, line: 1, reason: "the file is empty; expected a header row")
        }
        let header = records.removeFirst()
        var table = CSVTable(columns: header.fields)
        for record in records where record.fields.count != header.fields.count {
            throw CSVError(file: file, line: record.line,
                           reason: "row has \(record.fields.count) fields but the header has \(header.fields.count)")
        }
        table.rows = records.map(\.fields)
        return table
    }
}

public struct CSVError: Error, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let reason: String

    public var description: String { "\(file):\(line): malformed CSV: \(reason)" }
}

/// A small state machine over the UTF-8 bytes of the text. Every byte that
/// matters to CSV (comma, quote, CR, LF) is ASCII, so it never splits a
/// multi-byte character.
private struct CSVParser {
    struct Record {
        var line: Int
        var fields: [String]
    }

    let bytes: [UInt8]
    let file: String

    init(text: String, file: String) {
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }   // byte-order mark
        self.bytes = bytes
        self.file = file
    }

    func records() throws -> [Record] {
        let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\""),
            cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1, recordLine = 1
        var i = 0

        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        func endRecord() {
            endField()
            records.append(Record(line: recordLine, fields: fields))
            fields.removeAll()
        }

        while i < bytes.count {
            // At the start of a field.
            if bytes[i] == quote {
                let openedOn = line
                i += 1
                while true {
                    guard i < bytes.count else {
                        throw CSVError(file: file, line: openedOn, reason: "quoted field is never closed")
                    }
                    let byte = bytes[i]
                    if byte == quote {
                        if i + 1 < bytes.count, bytes[i + 1] == quote {
                            field.append(quote)   // a doubled quote stands for one
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    if byte == lf { line += 1 }
                    field.append(byte)
                    i += 1
                }
                // After the closing quote only a separator may follow.
                if i < bytes.count, bytes[i] != comma, bytes[i] != cr, bytes[i] != lf {
                    throw CSVError(file: file, line: line, reason: "text after the closing quote of a field")
                }
            } else {
                while i < bytes.count, bytes[i] != comma, bytes[i] != cr, bytes[i] != lf {
                    if bytes[i] == quote {
                        throw CSVError(file: file, line: line,
                                       reason: "double quote inside an unquoted field (quote the whole field)")
                    }
                    field.append(bytes[i])
                    i += 1
                }
            }

            // At a separator or the end of the text.
            if i == bytes.count {
                endRecord()
            } else if bytes[i] == comma {
                endField()
                i += 1
                if i == bytes.count { endRecord() }   // a trailing comma means a last, empty field
            } else {
                if bytes[i] == cr, i + 1 < bytes.count, bytes[i + 1] == lf { i += 1 }
                i += 1
                endRecord()
                line += 1
                recordLine = line
            }
        }
        return records
    }
}
