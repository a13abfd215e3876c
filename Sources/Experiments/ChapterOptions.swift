import ArgumentParser
import Files
import Foundation
import Binarization
import Corpus
import Kernels
import Notebook
import Transformer

/// The options every chapter takes, so that each runs on its own as it runs in
/// the report: `CHAPTER --out DIR [--teacher FILE] [--corpus synthetic|PATH]
/// [--profile quick] [--seeds N] [--students DIR] [--threads N] [--slurm …]`,
/// with the corpus, profile, thread and Slurm options `mos` has.
public struct ChapterOptions: ParsableArguments {
    @Option(help: "Folder for the chapter's tables, diagrams and plot scripts.") public var out: String
    @Option(help: "A trained teacher (.safetensors); made with --profile when absent.") public var teacher: String?
    @OptionGroup public var corpusOption: CorpusOption
    @OptionGroup public var profileOption: ProfileOption
    @Option(help: "Seeds per setting, where the chapter binarizes students (each seed shared by every setting).") public var seeds = 5
    @Option(help: "Where students are kept, shared between chapters (default: OUT/students).") public var students: String?
    @OptionGroup public var compute: ComputeOptions
    @OptionGroup public var scheduler: SlurmOptions
    /// Threads; sweeps run as many points at once.
    public var threads: Int { compute.threads }

    public init() {}

    public var folder: URL { URL(fileURLWithPath: out) }
    public var studentFolder: URL { students.map { URL(fileURLWithPath: $0) } ?? folder.appendingPathComponent("students") }

    public func validate() throws {
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
    }

    /// Sets the thread count and returns the profile; what cannot be used is a one-line error.
    public func start() throws -> Profile {
        compute.apply()
        let settings = try profileOption.resolve()
        do { try AtomicFile.checkFolder(folder); try AtomicFile.checkFolder(studentFolder) }
        catch let error as FileError { throw Failure(error.description) }
        return settings
    }

    /// The corpus, long enough for the profile's context.
    public func loadCorpus(_ settings: Profile) throws -> Corpus { try corpusOption.load(context: settings.model.context) }

    /// The teacher's path: --teacher, or (a chapter run on its own) one trained
    /// here with the profile, seed 42, and kept as teacher.safetensors in the
    /// students folder for the next run.
    public func teacherPath(_ settings: Profile, _ text: Corpus) throws -> String {
        if let teacher { return teacher }
        return try self.teacher(named: "teacher", settings, text)
    }

    /// NAME.safetensors in the students folder: trained with the profile and
    /// seed 42 when absent, and kept for the next run.
    public func teacher(named name: String, _ settings: Profile, _ text: Corpus) throws -> String {
        let url = studentFolder.appendingPathComponent(name + ".safetensors")
        if FileManager.default.fileExists(atPath: url.path) { return url.path }
        try FileManager.default.createDirectory(at: studentFolder, withIntermediateDirectories: true)
        let progress = Progress(total: settings.steps, label: name)
        let record = try trainTeacher(profile: settings, corpus: text, seed: 42, to: url) { progress.update(step: $0.step) }
        progress.finish()
        Self.log("\(name): " + record.sentence)
        return url.path
    }

    /// A sweep with the chapter's seeds, points at once (its threads) and scheduler.
    public func sweep(teacher: String, methods: [Method], corpus: Corpus, profile: Profile) -> Sweep {
        var sweep = Sweep(teacher: teacher, methods: methods, corpus: corpus, profile: profile)
        sweep.seeds = seeds; sweep.jobs = threads; sweep.slurm = scheduler.scheduler
        return sweep
    }

    /// Progress lines of a sweep, on standard error.
    public static func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}
