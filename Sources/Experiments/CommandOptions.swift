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
