import ArgumentParser
import Foundation
import Binarization
import Experiments
import Kernels

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Binarize a teacher over a grid of a method's settings and seeds; one CSV row per point.",
        discussion: """
        The grid is the product of the method's options given as comma-separated lists \
        (e.g. --method mos --experts 1,2,4,8, or --method rtn --bits 2,3 --group 64,128) and seeds 1…--seeds. Points run --jobs at a time, each on one thread \
        (so a point's numbers do not depend on --jobs). The teacher is identified by name and a hash of its bytes. Each finished point adds a row to --out, which is \
        rewritten whole each time (never half-written); a rerun skips the points already there, so an \
        interrupted sweep resumes. Students are scored as stored (codes and 16-bit scales), by the float \
        simulation of their codes, or with --packed on the packed kernels (the same perplexity to about 1e-6, \
        slower at the compact model's widths).

        The points are independent and can run anywhere that shares --out's folder: --plan prints, as \
        JSON lines, those without a record and the command that runs each; --point K runs point K (from \
        1, in the order of --plan) into a file of its own in NAME.points/ beside NAME.csv; --collect \
        moves those records into the CSV, in the sweep's order, and lists the points still missing. \
        --slurm submits the points without a record as one Slurm array job and a collect job after it, \
        and returns; rerun the same command to resubmit points whose task failed. Wherever points run, \
        the CSV is the one a local run writes, apart from the seconds column.

        """ + methodHelp)

    @Option(help: "The trained full-precision teacher (.safetensors).") var teacher: String
    @OptionGroup var method: MethodArguments
    @Option(help: "Seeds per setting (1…N; one for methods no seed changes).") var seeds = 5
    @Flag(help: "Score on the packed kernels rather than the float simulation of the stored codes.") var packed = false
    @OptionGroup var corpusOption: CorpusOption
    @OptionGroup var profileOption: ProfileOption
    @Option(help: "Distillation steps (default: the profile's).") var steps: Int?
    @Option(help: "The CSV to add rows to.") var out: String
    @Option(help: "Keep each student in this folder as METHOD-SETTINGS-sSEED.safetensors.") var save: String?
    @Option(name: .customLong("jobs"), help: "Points run at once (default: all cores).") var requestedJobs: Int?
    var jobs: Int { requestedJobs ?? Threads.available }
    @Option(help: "Validation windows to score (default: the profile's).") var windows: Int?
    @Flag(help: "Print the points without a record, one JSON object per line, each with the command that runs it.")
    var plan = false
    @Option(help: "Run only point K (from 1), into a file of its own beside the CSV.") var point: Int?
    @Flag(help: "Gather the records of points run on their own into the CSV; fail naming the points still missing.")
    var collect = false
    @OptionGroup var slurmOptions: SlurmOptions

    func run() throws {
        guard seeds >= 1, jobs >= 1 else { throw Failure("--seeds and --jobs must be at least 1") }
        try checkSteps(steps)
        if let windows, windows < 1 { throw Failure("--windows must be at least 1") }
        let profile = try profileOption.resolve()
        let grid = try method.grid()
        let (probe, teacherMethod, teacherMeta) = try loadStudent(teacher)
        guard teacherMethod.kind is FullPrecision, teacherMeta["binarization"] == nil else {
            throw Failure("\(teacher) is already binarized (\(teacherMethod)); give the full-precision teacher")
        }
        var sweep = Sweep(teacher: teacher, methods: grid,
                          corpus: try corpusOption.load(context: probe.config.context), profile: profile)
        sweep.seeds = seeds; sweep.packed = packed; sweep.steps = steps; sweep.windows = windows; sweep.jobs = jobs
        sweep.saveDirectory = save.map { URL(fileURLWithPath: $0) }
        if let save { try checkOutput(folder: save) }
        let csv = URL(fileURLWithPath: out)
        do {
            if plan {
                for p in try sweep.plan(csv) { print(try planLine(p, sweep.command(for: p, csv: csv))) }
            } else if let point {
                try sweep.runPoint(point, csv: csv, log: log)
            } else if collect {
                let (records, missing) = try sweep.collect(csv, log: log)
                guard missing.isEmpty else { throw Failure(Sweep.missing(missing, csv: csv)) }
                log("sweep: \(csv.lastPathComponent) holds every point of this sweep (\(sweep.own(records).count))")
            } else if let slurm = slurmOptions.scheduler {
                try sweep.submit(on: slurm, into: csv, collect: collectCommand(sweep, csv), log: log)
            } else {
                try sweep.run(into: csv, log: log)
            }
        } catch let error as SweepError { throw Failure(error.description) }
    }

    func validate() throws {
        let modes = [plan, point != nil, collect, slurmOptions.slurm].filter { $0 }.count
        guard modes <= 1 else { throw ValidationError("give at most one of --plan, --point, --collect and --slurm") }
    }

    /// This sweep as a command (absolute paths), for the collect job that runs after the points.
    func collectCommand(_ sweep: Sweep, _ csv: URL) -> [String] {
        [Sweep.mos, "sweep", "--teacher", Sweep.absolute(teacher), "--method", method.method] + method.options
            + ["--seeds", String(seeds)] + (steps.map { ["--steps", String($0)] } ?? []) + sweep.sharedArguments(csv) + ["--collect"]
    }

    /// One line of --plan: the point, its settings and seed, and its command.
    func planLine(_ point: Sweep.Point, _ command: [String]) throws -> String {
        struct Line: Encodable { let point: Int, method: Method, seed: UInt64, command: String }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = Line(point: point.index, method: point.method, seed: point.seed, command: Slurm.shellLine(command))
        return String(decoding: try encoder.encode(line), as: UTF8.self)
    }
}
