import Dispatch
import Files
import Foundation
import Binarization
import Corpus
import Kernels
import Notebook
import Transformer

/// A list of method settings (a grid: several expert counts, salient
/// fractions, bit widths) over seeds 1…`seeds` (seed 1 alone for a method no
/// seed changes), binarized from one teacher. Every finished point becomes a
/// `SweepRecord`, kept as a CSV row; the file is rewritten whole each time
/// (never half-written), and a rerun skips the points already in it, so an
/// interrupted sweep resumes. Two sweeps on one file take turns (FileLock).
/// Each point can also run on its own, in another process or on another
/// machine, into a file of its own that the sweep gathers (SweepPoints.swift).
public struct Sweep {
    public var teacher: String                  // path of the full-precision teacher
    public var methods: [Method]
    public var seeds = 5
    public var corpus: Corpus
    public var profile: Profile
    public var steps: Int?                      // distillation steps (default: the profile's)
    public var windows: Int?                    // validation windows scored (default: the profile's)
    public var jobs = Threads.available         // points at once, one thread each
    public var saveDirectory: URL?              // keep students here
    /// Score on the packed kernels. Off by default: they give the float
    /// simulation's perplexity to about 10⁻⁶ (int16 activations, tested), but
    /// they are built for wide layers, and at the compact model's widths
    /// (64 to 384) one thread scores about four times slower than sgemm.
    public var packed = false
    /// Run the points as a Slurm array job rather than here (nil: here).
    public var slurm: Slurm?
    /// The `mos` beside this program (a chapter's, or mos itself), which runs points on their own.
    public static var mos: String {
        (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]))
            .deletingLastPathComponent().appendingPathComponent("mos").standardizedFileURL.path
    }

    public init(teacher: String, methods: [Method], corpus: Corpus, profile: Profile) {
        self.teacher = teacher; self.methods = methods; self.corpus = corpus; self.profile = profile
    }

    public init(teacher: String, method: any BinarizationMethod, corpus: Corpus, profile: Profile) {
        self.init(teacher: teacher, methods: [Method(method)], corpus: corpus, profile: profile)
    }

    /// The teacher as the CSV names it: file name and a hash of its tensors'
    /// bytes, so a retrained teacher never passes for the one a row was
    /// measured on, unless it trained to the same weights (the header, which
    /// holds the training's wall time, is left out).
    public var teacherName: String {
        let name = (teacher as NSString).lastPathComponent
        guard let bytes = FileManager.default.contents(atPath: teacher) else { return name }
        let header = bytes.count >= 8 ? bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) } : 0
        let hash = fnv1a(bytes.dropFirst(header >= 0 && header <= bytes.count - 8 ? 8 + header : 0))
        return name + "@" + String(hash, radix: 16)
    }
    func steps(_ method: Method) -> Int { method.isTrained ? steps ?? profile.distillSteps : 0 }

    /// The records of `all` this sweep would make: its teacher, its
    /// distillation steps and seeds 1…`seeds`. A file shared between chapters
    /// also holds other budgets, older teachers and more seeds; findings use only these.
    public func own(_ all: [SweepRecord]) -> [SweepRecord] {
        let name = teacherName
        return all.filter { $0.teacher == name && $0.steps == steps($0.method) && $0.seed <= UInt64(max(1, seeds)) }
    }

    /// One point of a sweep: a method's settings and a seed. `index` counts
    /// from 1 in the sweep's order (every method with each of its seeds), the
    /// order of its rows and of its tasks on Slurm.
    public struct Point: Sendable {
        public let index: Int
        public let method: Method
        public let seed: UInt64
        public var label: String { "\(method) seed \(seed)" }
    }

    /// The points, in order.
    public var points: [Point] {
        let pairs = methods.flatMap { m in (1...(m.dependsOnSeed ? max(1, seeds) : 1)).map { (m, UInt64($0)) } }
        return pairs.enumerated().map { Point(index: $0.offset + 1, method: $0.element.0, seed: $0.element.1) }
    }

    /// Runs the points not yet done (neither in `csv` nor in a point file
    /// beside it), here or on Slurm as `slurm` says, and returns every
    /// record the file then holds.
    @discardableResult
    public func run(into csv: URL, log: (String) -> Void) throws -> [SweepRecord] {
        try check(csv)
        // One sweep at a time on a file: a second waits, then runs only what the first left undone.
        let fileLock = try lock(csv, log: log)
        defer { fileLock.release() }
        let teacherName = self.teacherName
        var (records, todo) = try gather(csv, teacher: teacherName)
        if let slurm, !todo.isEmpty {
            log("sweep: \(todo.count) point(s) to run on Slurm (\(records.count) already in \(csv.lastPathComponent))")
            try slurm.submit(self, todo, csv: csv, wait: true, log: log)
            (records, todo) = try gather(csv, teacher: teacherName)
            guard todo.isEmpty else { throw SweepError(Self.missing(todo, csv: csv)) }
            return records
        }
        let workers = min(max(1, jobs), max(todo.count, 1))
        log("sweep: \(todo.count) point(s) to run (\(records.count) already in \(csv.lastPathComponent)), \(workers) at a time")
        guard !todo.isEmpty else { return records }
        // One thread per point, so a point's numbers never depend on `jobs`.
        let threadsBefore = Threads.count
        Threads.use(1)
        defer { Threads.use(threadsBefore) }
        let lock = NSLock()
        var next = 0, finished = 0
        var failure: Error?
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                lock.lock()
                let index = next
                next += 1
                let stop = index >= todo.count || failure != nil
                lock.unlock()
                if stop { return }
                do {
                    let point = todo[index]
                    let record = try runPoint(point.method, seed: point.seed, teacherName: teacherName)
                    lock.lock()
                    defer { lock.unlock() }
                    records = ordered(records + [record], teacher: teacherName)
                    try SweepRecord.table(records).write(to: csv)
                    finished += 1
                    log("[\(finished)/\(todo.count)] \(point.label): " + Self.summary(record))
                } catch {
                    lock.lock()
                    failure = failure ?? error
                    lock.unlock()
                }
            }
        }
        if let failure { throw failure }
        return records
    }

    static func summary(_ record: SweepRecord) -> String {
        "perplexity \(String(format: "%.4f", record.perplexity)), \(String(format: "%.3f", record.bitsPerWeight)) bits/weight, "
            + "\(String(format: "%.1f", record.seconds)) s"
    }

    /// What must hold before any point runs.
    func check(_ csv: URL) throws {
        for m in methods { if let problem = m.problems.first { throw SweepError(problem) } }
        if let windows, windows < 1 { throw SweepError("windows must be at least 1") }
        do { try AtomicFile.checkTarget(csv) } catch let error as FileError { throw SweepError(error.description) }
    }

    func lock(_ csv: URL, log: (String) -> Void) throws -> FileLock {
        try FileLock(csv.deletingLastPathComponent().appendingPathComponent("." + csv.lastPathComponent + ".lock")) {
            log("sweep: \(csv.lastPathComponent) is in use by \($0); waiting for it to finish")
        }
    }

    /// Rows in one order whatever finished first: other sweeps' rows as they
    /// were, then this sweep's points in order.
    func ordered(_ records: [SweepRecord], teacher name: String) -> [SweepRecord] {
        let position = Dictionary(points.enumerated().map { (key($0.element.method, seed: $0.element.seed, teacher: name), $0.offset) }) { a, _ in a }
        return records.enumerated().sorted { a, b in
            (position[a.element.key] ?? -1, a.offset) < (position[b.element.key] ?? -1, b.offset)
        }.map(\.element)
    }

    /// One point: binarize, save, reload (so the student is scored as stored: its codes
    /// and 16-bit scales), score on the packed kernels or the float simulation of those codes.
    func runPoint(_ method: Method, seed: UInt64, teacherName: String) throws -> SweepRecord {
        let start = Date()
        let model = try Student.load(from: URL(fileURLWithPath: teacher)).model   // each point its own copy
        let result = try binarize(model, method: method, corpus: corpus, profile: profile, steps: steps, seed: seed)
        let file = saveDirectory?.appendingPathComponent(Self.fileName(method, seed: seed))
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("mos-sweep-\(UUID()).safetensors")
        defer { if saveDirectory == nil { try? FileManager.default.removeItem(at: file) } }
        let metadata = ["corpus": corpus.name, "profile": profile.name, "seed": String(seed), "teacher": teacherName]
        try Student.save(result.student, method: method, to: file, metadata: metadata, routerHistory: result.routerHistory)
        let stored = try Student.load(from: file, packed: packed ? .int16 : nil).model
        let kernels = !packed ? "float" : Student.pack(stored).float == 0 ? "packed" : "mixed"
        let e = evaluate(stored, corpus: corpus, windows: windows ?? profile.evalWindows)
        let storage = Storage.model(ModelShape(stored.config), method)
        return SweepRecord(method: method, seed: seed, perplexity: e.perplexity, bitsPerByte: e.bitsPerByte,
                           floorBitsPerByte: e.floorBitsPerByte, bitsPerWeight: storage.linearBitsPerWeight,
                           modelBytes: storage.bytes, seconds: Date().timeIntervalSince(start), corpus: corpus.name,
                           profile: profile.name, steps: steps(method), teacher: teacherName, threads: Threads.count,
                           kernels: kernels)
    }

    /// The key a point's record will have.
    func key(_ m: Method, seed: UInt64, teacher teacherName: String) -> [String] {
        SweepRecord(method: m, seed: seed, perplexity: 0, bitsPerByte: 0, floorBitsPerByte: nil, bitsPerWeight: 0,
                    modelBytes: 0, seconds: 0, corpus: corpus.name, profile: profile.name, steps: steps(m),
                    teacher: teacherName, threads: 0, kernels: "").key
    }

    /// One method's perplexity by seed.
    public static func perplexityBySeed(_ records: [SweepRecord], of method: Method) -> [UInt64: Double] {
        Dictionary(records.filter { $0.method == method }.map { ($0.seed, $0.perplexity) }) { first, _ in first }
    }

    /// BinaryMoS records (OneBit's being E = 1) as perplexity[E][seed], the
    /// shape the paired comparisons take.
    public static func perplexityBySeed(_ records: [SweepRecord]) -> [Int: [UInt64: Double]] {
        var perplexity: [Int: [UInt64: Double]] = [:]
        for r in records { if let mos = r.method.kind as? BinaryMoS { perplexity[mos.experts, default: [:]][r.seed] = r.perplexity } }
        return perplexity
    }

    /// Where a point's student is kept: METHOD-SETTING-…-sSEED.safetensors,
    /// each setting as its value, in the method's option order.
    public static func fileName(_ m: Method, seed: UInt64) -> String {
        let settings = m.settings.map { "-" + $0.name + "=" + $0.value }.joined()
        return m.name + settings + "-s\(seed).safetensors"
    }
}
