import ArgumentParser
import Foundation
import Corpus
import Kernels
import Transformer

// Options that `mos` and the chapters share.

/// --threads: how many threads the numerical work uses.
public struct ComputeOptions: ParsableArguments {
    @Option(name: .customLong("threads"), help: "Threads for the numerical work (default: all cores).")
    var requestedThreads: Int?
    public var threads: Int { requestedThreads ?? Threads.available }

    public init() {}

    public func validate() throws {
        guard (1...1024).contains(threads) else { throw ValidationError("--threads must be between 1 and 1024") }
    }

    public func apply() { Threads.use(threads) }
}

public struct CorpusOption: ParsableArguments {
    @Option(help: "`synthetic` (the embedded generated language) or the path of a file: its bytes are the tokens, so any bytes will do (text in any encoding, or binary).")
    public var corpus: String = "synthetic"

    public init() {}

    /// Loads the corpus, requiring a validation split of at least one window.
    public func load(context: Int) throws -> Corpus {
        do { return try Corpus.load(corpus, minimumBytes: context + 1) }
        catch let error as CorpusError { throw Failure(error.description) }
    }
}

public struct ProfileOption: ParsableArguments {
    @Option(help: "Model and training settings: \(Profile.names.joined(separator: ", ")).")
    public var profile: String = "quick"

    public init() {}

    public func resolve() throws -> Profile {
        guard let p = Profile.named(profile) else {
            throw Failure("unknown profile '\(profile)'; choose one of \(Profile.names.joined(separator: ", "))")
        }
        return p
    }
}

/// A one-line error for the user; ArgumentParser prints it (without the
/// usage, which is for mistakes in the arguments) and exits non-zero.
public struct Failure: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

/// --slurm and its settings: a sweep's points as a Slurm array job (Slurm.swift).
public struct SlurmOptions: ParsableArguments {
    @Flag(help: "Run the sweep's points as a Slurm array job, one task per point, on a folder the cluster shares.")
    public var slurm = false
    @Option(help: "Slurm partition (default: the cluster's).") var partition: String?
    @Option(help: "Slurm time limit per point, e.g. 1:00:00 (default: the partition's).") var time: String?
    @Option(help: "CPUs per task: a point uses one; more only where a cluster gives memory per CPU.") var cpusPerTask = 1
    @Option(help: "At most this many points at once (sbatch --array=…%N; default: as many as Slurm allows).") var throttle: Int?

    public init() {}

    public func validate() throws {
        guard cpusPerTask >= 1 else { throw ValidationError("--cpus-per-task must be at least 1") }
        if let throttle, throttle < 1 { throw ValidationError("--throttle must be at least 1") }
        if !slurm, partition != nil || time != nil || throttle != nil || cpusPerTask != 1 {
            throw ValidationError("--partition, --time, --cpus-per-task and --throttle go with --slurm")
        }
    }

    /// The scheduler these options ask for (nil: run here).
    public var scheduler: Slurm? {
        guard slurm else { return nil }
        var s = Slurm()
        s.partition = partition; s.time = time; s.cpusPerTask = cpusPerTask; s.throttle = throttle
        return s
    }
}
