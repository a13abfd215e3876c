import Dispatch
import Files
import Foundation
import Binarization
import Corpus
import Kernels
import Notebook
import Transformer

/// A grid of one method's settings over seeds, binarized from one teacher:
/// the product of the lists that apply to the method (BinaryMoS: `experts`;
/// PB-LLM: `salientRatios`; RTN and GPTQ: `bits` × `groupSizes`) and seeds
/// 1…`seeds` (seed 1 alone for a method no seed changes). Every finished
/// point becomes a CSV row; the file is rewritten whole each time (never
/// half-written), and a rerun skips the points already in it, so an
/// interrupted sweep resumes.
public struct Sweep {
    public var teacher: String                  // path of the full-precision teacher
    public var method: Method                   // the settings not swept
    public var experts = [4], salientRatios = [0.1], bits = [2], groupSizes = [128]
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

    public init(teacher: String, method: Method, corpus: Corpus, profile: Profile) {
        self.teacher = teacher; self.method = method; self.corpus = corpus; self.profile = profile
    }

    public static let columns = ["method", "experts", "salient", "saliency", "compensation", "bits", "group", "seed",
                                 "perplexity", "bits_per_byte", "floor_bits_per_byte", "bits_per_weight", "model_bytes",
                                 "seconds", "corpus", "profile", "steps", "teacher", "threads", "kernels"]
    // What identifies a point: a rerun skips rows that agree on all of these.
    static let key = ["method", "experts", "salient", "saliency", "compensation", "bits", "group", "seed",
                      "corpus", "profile", "steps", "teacher"]

    /// Every setting of the grid.
    public var settings: [Method] {
        switch method.name {
        case .mos: return experts.map { var m = method; m.experts = $0; return m }
        case .pbllm: return salientRatios.map { var m = method; m.salientRatio = $0; return m }
        case .rtn, .gptq:
            return bits.flatMap { b in groupSizes.map { var m = method; m.bits = b; m.groupSize = $0; return m } }
        default: return [method]
        }
    }

    /// The teacher as the CSV names it: file name and a hash of its bytes, so a
    /// retrained teacher never passes for the one a row was measured on.
    public var teacherName: String {
        let name = (teacher as NSString).lastPathComponent
        guard let bytes = FileManager.default.contents(atPath: teacher) else { return name }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325          // FNV-1a
        for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        return name + "@" + String(hash, radix: 16)
    }
    var totalSteps: Int { method.isTrained ? steps ?? profile.distillSteps : 0 }

    /// The rows of `table` this sweep would make: its teacher, its distillation
    /// steps and seeds 1…`seeds`. A table shared between chapters also holds
    /// other budgets, older teachers and more seeds; findings use only these.
    public func own(_ table: CSVTable) -> [[String]] {
        let column = { (name: String) in table.columns.firstIndex(of: name)! }
        let name = teacherName, steps = String(totalSteps)
        return table.rows.filter { row in
            row[column("teacher")] == name && row[column("steps")] == steps
                && (UInt64(row[column("seed")]).map { $0 <= UInt64(max(1, seeds)) } ?? false)
        }
    }

    /// Runs the points not yet in `csv` and returns the whole table.
    @discardableResult
    public func run(into csv: URL, log: (String) -> Void) throws -> CSVTable {
        for m in settings { if let problem = m.problems.first { throw SweepError(problem) } }
        if let windows, windows < 1 { throw SweepError("windows must be at least 1") }
        let teacherName = self.teacherName
        var table = try Self.existingTable(csv)
        let done = Set(table.rows.map { row in Self.key.map { row[table.columns.firstIndex(of: $0)!] } })
        let points = settings.flatMap { m in (1...(m.dependsOnSeed ? max(1, seeds) : 1)).map { (method: m, seed: UInt64($0)) } }
            .filter { !done.contains(keyFields($0.method, seed: $0.seed, teacher: teacherName)) }
        let workers = min(max(1, jobs), max(points.count, 1))
        log("sweep: \(points.count) point(s) to run (\(done.count) already in \(csv.lastPathComponent)), \(workers) at a time")
        guard !points.isEmpty else { return table }
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
                let stop = index >= points.count || failure != nil
                lock.unlock()
                if stop { return }
                do {
                    let (m, seed) = points[index]
                    let row = try runPoint(m, seed: seed, teacherName: teacherName)
                    lock.lock()
                    defer { lock.unlock() }
                    table.append(row)
                    try table.write(to: csv)
                    finished += 1
                    log("[\(finished)/\(points.count)] \(m) seed \(seed): perplexity \(row[8]), "
                        + "\(row[11]) bits/weight, \(row[13]) s")
                } catch {
                    lock.lock()
                    failure = failure ?? error
                    lock.unlock()
                }
            }
        }
        if let failure { throw failure }
        return table
    }

    /// One point: binarize, save, reload (so the student is scored as stored: its codes
    /// and 16-bit scales), score on the packed kernels or the float simulation of those codes.
    func runPoint(_ method: Method, seed: UInt64, teacherName: String) throws -> [String] {
        let start = Date()
        let model = try Student.load(from: URL(fileURLWithPath: teacher)).model   // each point its own copy
        let result = binarize(model, method: method, corpus: corpus, profile: profile, steps: steps, seed: seed)
        let file = saveDirectory?.appendingPathComponent(Self.fileName(method, seed: seed))
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("mos-sweep-\(UUID()).safetensors")
        defer { if saveDirectory == nil { try? FileManager.default.removeItem(at: file) } }
        var metadata = ["corpus": corpus.name, "profile": profile.name, "seed": String(seed), "teacher": teacherName]
        if !result.routerHistory.isEmpty { metadata["router_history"] = routerCSV(result.routerHistory) }
        try Student.save(result.student, method: method, to: file, metadata: metadata)
        let stored = try Student.load(from: file).model
        var kernels = "float"
        if packed { kernels = Student.pack(stored).float == 0 ? "packed" : "mixed" }
        let e = evaluate(stored, corpus: corpus, windows: windows ?? profile.evalWindows)
        let storage = Storage.model(ModelShape(stored.config), method)
        let k = keyFields(method, seed: seed, teacher: teacherName)
        return Array(k.prefix(8)) + [
            CSVTable.format(e.perplexity, digits: 6), CSVTable.format(e.bitsPerByte, digits: 6),
            e.floorBitsPerByte.map { CSVTable.format($0, digits: 6) } ?? "",
            CSVTable.format(storage.linearBitsPerWeight, digits: 6), String(storage.bytes),
            CSVTable.format(Date().timeIntervalSince(start), digits: 4)] + Array(k.suffix(4))
            + [String(Threads.count), kernels]
    }

    /// The key fields of a point as the CSV writes them; settings that do not apply to the method stay empty.
    func keyFields(_ m: Method, seed: UInt64, teacher teacherName: String) -> [String] {
        let n = m.name, partial = n == .pbllm, grouped = n == .rtn || n == .gptq
        return [n.rawValue, m.isTrained ? String(m.expertCount) : "",
                partial ? CSVTable.format(m.salientRatio) : "", partial ? m.saliency.rawValue : "",
                partial ? String(m.compensation) : "", grouped ? String(m.bits) : "", grouped ? String(m.groupSize) : "",
                String(seed), corpus.name, profile.name, String(totalSteps), teacherName]
    }

    /// BinaryMoS rows (OneBit's being E = 1) as perplexity[E][seed], the shape
    /// the paired comparisons take.
    public static func perplexityBySeed(_ rows: [[String]]) -> [Int: [UInt64: Double]] {
        let column = { (name: String) in columns.firstIndex(of: name)! }
        var perplexity: [Int: [UInt64: Double]] = [:]
        for row in rows where row[column("method")] == "mos" {
            guard let e = Int(row[column("experts")]), let seed = UInt64(row[column("seed")]),
                  let p = Double(row[column("perplexity")]) else { continue }
            perplexity[e, default: [:]][seed] = p
        }
        return perplexity
    }

    /// Where a point's student is kept: METHOD-SETTINGS-sSEED.safetensors.
    public static func fileName(_ m: Method, seed: UInt64) -> String {
        switch m.name {
        case .mos: return "mos-e\(m.experts)-s\(seed).safetensors"
        case .pbllm:
            return "pbllm-r\(CSVTable.format(m.salientRatio))-\(m.saliency.rawValue)\(m.compensation ? "" : "-nocomp")-s\(seed).safetensors"
        case .rtn, .gptq: return "\(m.name.rawValue)-b\(m.bits)-g\(m.groupSize)-s\(seed).safetensors"
        default: return "\(m.name.rawValue)-s\(seed).safetensors"
        }
    }

    static func existingTable(_ url: URL) throws -> CSVTable {
        do { try AtomicFile.checkTarget(url) } catch let error as AtomicFileError { throw SweepError(error.description) }
        // A missing or empty file starts a new table; one that cannot be read is an error, never overwritten.
        guard FileManager.default.fileExists(atPath: url.path) else { return CSVTable(columns: columns) }
        let table: CSVTable
        do {
            let text = try TextFile.read(url)
            if text.isEmpty { return CSVTable(columns: columns) }
            table = try CSVTable.parse(text, file: url.path)
        } catch let error as TextFileError {
            throw SweepError(error.description)
        } catch {
            throw SweepError("\(url.path) is not a readable CSV: \(error)")
        }
        guard table.columns == columns else {
            throw SweepError("\(url.path) has columns \(table.columns.joined(separator: ",")), not a sweep's")
        }
        return table
    }
}

public struct SweepError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

/// Gate statistics as CSV text: step, block, layer, normalized entropy, then each expert's usage.
public func routerCSV(_ snapshots: [RouterSnapshot]) -> String {
    let experts = snapshots.first?.usage.count ?? 0
    var table = CSVTable(columns: ["step", "block", "layer", "entropy"] + (0..<experts).map { "usage\($0)" })
    for s in snapshots {
        table.append([s.step, s.block, s.layer, CSVTable.format(s.normalizedEntropy, digits: 5)]
                     + s.usage.map { CSVTable.format($0, digits: 5) })
    }
    return table.text
}
