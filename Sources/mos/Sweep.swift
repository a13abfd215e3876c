import ArgumentParser
import Dispatch
import Foundation
import Binarization
import Corpus
import Kernels
import Notebook
import Transformer

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Binarize a teacher over a grid of a method's settings and seeds; one CSV row per point.",
        discussion: """
        The grid is the product of the lists that apply to the method (mos: --experts; pbllm: --salient; \
        rtn, gptq: --bits and --group) and seeds 1…--seeds. Points run --jobs at a time, each on one thread \
        (so a point's numbers do not depend on --jobs). Each finished point adds a row to --out, which is \
        rewritten whole each time (never half-written); a rerun skips the points already there, so an \
        interrupted sweep resumes. Students are scored as stored, on the packed kernels.
        """)

    @Option(help: "The trained full-precision teacher (.safetensors).") var teacher: String
    @Option(help: "fp, sign, onebit, mos, pbllm, rtn or gptq.") var method: String
    @Option(help: "mos: scaling expert counts, comma-separated.") var experts = "4"
    @Option(help: "pbllm: salient fractions, comma-separated.") var salient = "0.1"
    @Option(help: "pbllm: saliency measure, magnitude or hessian.") var saliency = "hessian"
    @Flag(help: "pbllm: quantize without GPTQ-style error compensation.") var noCompensation = false
    @Option(help: "rtn, gptq: bits per code, comma-separated.") var bits = "2"
    @Option(help: "rtn, gptq: group sizes, comma-separated.") var group = "128"
    @Option(help: "Seeds per setting (1…N).") var seeds = 3
    @OptionGroup var corpusOption: CorpusOption
    @OptionGroup var profileOption: ProfileOption
    @Option(help: "Distillation steps (default: the profile's).") var steps: Int?
    @Option(help: "The CSV to append to.") var out: String
    @Option(help: "Keep each student here as METHOD-SETTINGS-sSEED.safetensors.") var save: String?
    @Option(help: "Points run at once (default: all cores).") var jobs = Threads.available
    @Option(help: "Validation windows to score (default: the profile's).") var windows: Int?

    static let columns = ["method", "experts", "salient", "saliency", "compensation", "bits", "group", "seed",
                          "perplexity", "bits_per_byte", "floor_bits_per_byte", "bits_per_weight", "model_bytes",
                          "seconds", "corpus", "profile", "steps", "teacher", "threads", "kernels"]
    // What identifies a point: a rerun skips rows that agree on all of these.
    static let key = ["method", "experts", "salient", "saliency", "compensation", "bits", "group", "seed",
                      "corpus", "profile", "steps", "teacher"]

    func run() throws {
        guard seeds >= 1, jobs >= 1 else { throw ValidationError("--seeds and --jobs must be at least 1") }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        let profile = try profileOption.resolve()
        let base = try baseMethod()
        let (probe, teacherMethod, teacherMeta) = try loadStudent(teacher)
        guard teacherMethod.name == .fp, teacherMeta["binarization"] == nil else {
            throw Failure("\(teacher) is already binarized (\(teacherMethod)); give the full-precision teacher")
        }
        let corpus = try corpusOption.load(context: probe.config.context)
        let url = URL(fileURLWithPath: out)
        var table = try existingTable(url)
        let totalSteps = base.isTrained ? steps ?? profile.distillSteps : 0
        let teacherName = (teacher as NSString).lastPathComponent
        let done = Set(table.rows.map { row in Self.key.map { row[table.columns.firstIndex(of: $0)!] } })
        let points = try grid(base).flatMap { m in (1...seeds).map { (method: m, seed: UInt64($0)) } }.filter { p in
            !done.contains(fields(p.method, seed: p.seed, corpus: corpus.name, profile: profile.name, steps: totalSteps,
                                  teacher: teacherName))
        }
        let workers = min(jobs, max(points.count, 1))
        log("sweep: \(points.count) point(s) to run (\(done.count) already in \(out)), \(workers) at a time")
        guard !points.isEmpty else { return }
        // One thread per point when points run side by side; all of them for a single job.
        Threads.use(workers > 1 ? 1 : Threads.available)
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
                    let row = try runPoint(m, seed: seed, corpus: corpus, profile: profile, teacherName: teacherName)
                    lock.lock()
                    defer { lock.unlock() }
                    table.append(row)
                    try table.write(to: url)
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
    }

    func runPoint(_ method: Method, seed: UInt64, corpus: Corpus, profile: Profile, teacherName: String) throws
        -> [String] {
        let start = Date()
        let (model, _, _) = try loadStudent(teacher)   // each point its own copy: forward passes keep state
        let result = binarize(model, method: method, corpus: corpus, profile: profile, steps: steps, seed: seed)
        let file: URL
        if let save {
            file = URL(fileURLWithPath: save).appendingPathComponent(Self.fileName(method, seed: seed))
        } else {
            file = FileManager.default.temporaryDirectory.appendingPathComponent("mos-sweep-\(UUID()).safetensors")
        }
        defer { if save == nil { try? FileManager.default.removeItem(at: file) } }
        var metadata = ["corpus": corpus.name, "profile": profile.name, "seed": String(seed), "teacher": teacherName]
        if !result.routerHistory.isEmpty { metadata["router_history"] = routerCSV(result.routerHistory) }
        try Student.save(result.student, method: method, to: file, metadata: metadata)
        let (stored, _, _) = try loadStudent(file.path)
        let layers = Student.pack(stored)
        let e = evaluate(stored, corpus: corpus, windows: windows ?? profile.evalWindows)
        let storage = Storage.model(ModelShape(stored.config), method)
        let steps = method.isTrained ? self.steps ?? profile.distillSteps : 0
        return fields(method, seed: seed, corpus: corpus.name, profile: profile.name, steps: steps, teacher: teacherName)
            .prefix(8) + [CSVTable.format(e.perplexity, digits: 6), CSVTable.format(e.bitsPerByte, digits: 6),
                          e.floorBitsPerByte.map { CSVTable.format($0, digits: 6) } ?? "",
                          CSVTable.format(storage.linearBitsPerWeight, digits: 6), String(storage.bytes),
                          CSVTable.format(Date().timeIntervalSince(start), digits: 4), corpus.name, profile.name,
                          String(steps), teacherName, String(Threads.count), layers.float == 0 ? "packed" : "mixed"]
    }

    /// The key fields of a point, as the CSV writes them (settings that do not apply to the method left empty).
    func fields(_ m: Method, seed: UInt64, corpus: String, profile: String, steps: Int, teacher: String) -> [String] {
        let n = m.name, partial = n == .pbllm, grouped = n == .rtn || n == .gptq
        return [n.rawValue, m.isTrained ? String(m.expertCount) : "",
                partial ? CSVTable.format(m.salientRatio) : "", partial ? m.saliency.rawValue : "",
                partial ? String(m.compensation) : "", grouped ? String(m.bits) : "", grouped ? String(m.groupSize) : "",
                String(seed), corpus, profile, String(steps), teacher]
    }

    static func fileName(_ m: Method, seed: UInt64) -> String {
        switch m.name {
        case .mos: return "mos-e\(m.experts)-s\(seed).safetensors"
        case .pbllm: return "pbllm-r\(CSVTable.format(m.salientRatio))-\(m.saliency.rawValue)-s\(seed).safetensors"
        case .rtn, .gptq: return "\(m.name.rawValue)-b\(m.bits)-g\(m.groupSize)-s\(seed).safetensors"
        default: return "\(m.name.rawValue)-s\(seed).safetensors"
        }
    }

    func baseMethod() throws -> Method {
        guard let name = Method.Name(rawValue: method) else {
            throw ValidationError("unknown method '\(method)'; choose one of "
                                  + Method.Name.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard let measure = Method.Saliency(rawValue: saliency) else {
            throw ValidationError("unknown saliency '\(saliency)'; choose magnitude or hessian")
        }
        var m = Method(name)
        m.saliency = measure; m.compensation = !noCompensation
        return m
    }

    /// Every setting of the grid, each checked.
    func grid(_ base: Method) throws -> [Method] {
        func list<T: LosslessStringConvertible>(_ text: String, _ option: String) throws -> [T] {
            let values = text.split(separator: ",").map { T(String($0.trimmingCharacters(in: .whitespaces))) }
            guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else {
                throw ValidationError("--\(option) '\(text)' is not a comma-separated list of numbers")
            }
            return values.map { $0! }
        }
        var settings = [base]
        switch base.name {
        case .mos:
            settings = try (list(experts, "experts") as [Int]).map { var m = base; m.experts = $0; return m }
        case .pbllm:
            settings = try (list(salient, "salient") as [Double]).map { var m = base; m.salientRatio = $0; return m }
        case .rtn, .gptq:
            let b: [Int] = try list(bits, "bits"), g: [Int] = try list(group, "group")
            settings = b.flatMap { bits in g.map { var m = base; m.bits = bits; m.groupSize = $0; return m } }
        default:
            break
        }
        for m in settings { if let problem = m.problems.first { throw ValidationError(problem) } }
        return settings
    }

    func existingTable(_ url: URL) throws -> CSVTable {
        guard FileManager.default.fileExists(atPath: url.path) else { return CSVTable(columns: Self.columns) }
        let table: CSVTable
        do { table = try CSVTable.read(from: url) } catch { throw Failure("\(out) is not a readable CSV: \(error)") }
        guard table.columns == Self.columns else {
            throw Failure("\(out) has columns \(table.columns.joined(separator: ",")), not a sweep's; name another --out")
        }
        return table
    }
}
