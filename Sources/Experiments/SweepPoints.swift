import Files
import Foundation
import Binarization
import Kernels

/// A sweep as a set of independent points, so that they can run anywhere:
/// in other processes, on other machines sharing the sweep's folder, as a
/// Slurm array job. A point run on its own (`runPoint(_:csv:log:)`, which is
/// `mos sweep … --point K`) writes its record to a file of its own in
/// NAME.points/ beside the sweep's NAME.csv; gathering (`collect`, and the
/// start of every `run`) moves the records into the CSV in the sweep's order.
/// A point runs on one thread wherever it runs, so the CSV is byte for byte
/// the one a local `mos sweep` writes, apart from the seconds column.
extension Sweep {
    /// The folder of the records of points run on their own.
    public static func pointFolder(_ csv: URL) -> URL {
        csv.deletingPathExtension().appendingPathExtension("points")
    }

    /// A point's own file, named by its settings and a hash of its whole key
    /// (teacher, corpus, profile, steps), so that no other point shares it.
    func pointFile(_ point: Point, csv: URL, teacher name: String) -> URL {
        let hash = fnv1a(key(point.method, seed: point.seed, teacher: name).joined(separator: "\u{1f}").utf8)
        let stem = Self.fileName(point.method, seed: point.seed).replacingOccurrences(of: ".safetensors", with: "")
        return Self.pointFolder(csv).appendingPathComponent(stem + "-" + String(hash, radix: 16) + ".csv")
    }

    /// The points without a record, in the CSV or in a point file; nothing is changed.
    public func plan(_ csv: URL) throws -> [Point] {
        try check(csv)
        let name = teacherName
        let done = Set(try SweepRecord.read(csv).map(\.key))
        return try points.filter { p in
            try !done.contains(key(p.method, seed: p.seed, teacher: name))
                && SweepRecord.read(pointFile(p, csv: csv, teacher: name)).isEmpty
        }
    }

    /// Runs point `index` (counted from 1) on one thread into its own file,
    /// unless it has a record already. Returns the record, nil when there was one.
    @discardableResult
    public func runPoint(_ index: Int, csv: URL, log: (String) -> Void) throws -> SweepRecord? {
        try check(csv)
        let all = points
        guard all.indices.contains(index - 1) else {
            throw SweepError("--point \(index) is not a point of this sweep: it has \(all.count), numbered from 1")
        }
        let point = all[index - 1], name = teacherName
        let file = pointFile(point, csv: csv, teacher: name)
        let key = key(point.method, seed: point.seed, teacher: name)
        if try SweepRecord.read(csv).contains(where: { $0.key == key }) || !SweepRecord.read(file).isEmpty {
            log("sweep: point \(index) (\(point.label)) has its record already")
            return nil
        }
        let threadsBefore = Threads.count
        Threads.use(1)
        defer { Threads.use(threadsBefore) }
        let record = try runPoint(point.method, seed: point.seed, teacherName: name)
        try SweepRecord.table([record]).write(to: file)
        log("[point \(index) of \(all.count)] \(point.label): " + Self.summary(record))
        return record
    }

    /// Moves the finished points' records into the CSV; returns every record
    /// it holds and the points that still have none.
    public func collect(_ csv: URL, log: (String) -> Void) throws -> (records: [SweepRecord], missing: [Point]) {
        try check(csv)
        let fileLock = try lock(csv, log: log)
        defer { fileLock.release() }
        return try gather(csv, teacher: teacherName)
    }

    /// `collect` for a caller holding the lock.
    func gather(_ csv: URL, teacher name: String) throws -> (records: [SweepRecord], missing: [Point]) {
        var records = try SweepRecord.read(csv)
        let done = Set(records.map(\.key))
        var missing: [Point] = [], found: [URL] = []
        for point in points where !done.contains(key(point.method, seed: point.seed, teacher: name)) {
            let file = pointFile(point, csv: csv, teacher: name)
            if let record = try SweepRecord.read(file).first {
                records.append(record)
                found.append(file)
            } else {
                missing.append(point)
            }
        }
        if !found.isEmpty {
            records = ordered(records, teacher: name)
            try SweepRecord.table(records).write(to: csv)
            for file in found { try? FileManager.default.removeItem(at: file) }   // the CSV holds them now
        }
        return (records, missing)
    }

    /// One line naming the points without a record.
    public static func missing(_ points: [Point], csv: URL) -> String {
        "\(points.count) point(s) of \(csv.lastPathComponent) have no record: "
            + points.prefix(5).map { "\($0.index) (\($0.label))" }.joined(separator: ", ") + (points.count > 5 ? ", …" : "")
            + "; run the same command again to run them"
    }

    /// The `mos sweep` command that runs `point` on its own: a sweep of the
    /// point's method alone, in which point K is seed K. Paths are absolute
    /// and the distillation steps explicit, so it runs the same from anywhere.
    public func command(for point: Point, csv: URL) -> [String] {
        let m = point.method
        return [Self.mos, "sweep", "--teacher", Self.absolute(teacher), "--method", m.name]
            + m.settings.flatMap { ["--" + $0.name, $0.value] }
            + ["--seeds", String(m.dependsOnSeed ? max(1, seeds) : 1)] + (m.isTrained ? ["--steps", String(steps(m))] : [])
            + sharedArguments(csv) + ["--point", String(m.dependsOnSeed ? Int(point.seed) : 1)]
    }

    /// The `mos sweep` options every command for this sweep's points takes
    /// alike: corpus, profile, scoring, where students and records go.
    public func sharedArguments(_ csv: URL) -> [String] {
        ["--corpus", corpus.source == "synthetic" ? "synthetic" : Self.absolute(corpus.source), "--profile", profile.name]
            + (windows.map { ["--windows", String($0)] } ?? []) + (packed ? ["--packed"] : [])
            + (saveDirectory.map { ["--save", $0.standardizedFileURL.path] } ?? []) + ["--out", csv.standardizedFileURL.path]
    }

    public static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}

/// FNV-1a: a short, stable hash for names (not for security).
func fnv1a<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
    bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
}
