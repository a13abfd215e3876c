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
        do { try sweep.run(into: URL(fileURLWithPath: out), log: log) }
        catch let error as SweepError { throw Failure(error.description) }
    }
}
