import ArgumentParser
import Files
import Foundation
import Corpus
import Kernels
import Transformer
import Binarization

/// Options every computing command shares.
extension ActivationPrecision: ExpressibleByArgument {}

struct ComputeOptions: ParsableArguments {
    @Option(name: .customLong("threads"), help: "Threads for the numerical work (default: all cores).")
    var requestedThreads: Int?
    var threads: Int { requestedThreads ?? Threads.available }

    func validate() throws {
        guard (1...1024).contains(threads) else { throw ValidationError("--threads must be between 1 and 1024") }
    }

    func apply() throws { Threads.use(threads) }
}

struct CorpusOption: ParsableArguments {
    @Option(help: "`synthetic` (the embedded generated language) or the path of a text file.")
    var corpus: String = "synthetic"

    /// Loads the corpus, requiring a validation split of at least one window.
    func load(context: Int) throws -> Corpus {
        do { return try Corpus.load(corpus, minimumBytes: context + 1) }
        catch let error as CorpusError { throw Failure(error.description) }
    }
}

struct ProfileOption: ParsableArguments {
    @Option(help: "Model and training settings: \(Profile.names.joined(separator: ", ")).")
    var profile: String = "quick"

    func resolve() throws -> Profile {
        guard let p = Profile.named(profile) else {
            throw Failure("unknown profile '\(profile)'; choose one of \(Profile.names.joined(separator: ", "))")
        }
        return p
    }
}

/// A one-line error for the user; ArgumentParser prints it and exits non-zero.
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Checks before the work that a file can be written at `path` (or, with
/// `folder`, that the folder exists or can be made, and takes files).
func checkOutput(_ path: String? = nil, folder: String? = nil) throws {
    do {
        if let path { try AtomicFile.checkTarget(URL(fileURLWithPath: path)) }
        if let folder { try AtomicFile.checkFolder(URL(fileURLWithPath: folder)) }
    } catch let error as AtomicFileError { throw Failure(error.description) }
}

/// Loads a teacher or a student, turning format problems into one-line errors.
func loadStudent(_ path: String) throws -> (model: TransformerModel, method: Method, metadata: [String: String]) {
    do { return try Student.load(from: URL(fileURLWithPath: path)) }
    catch let error as SafetensorsError { throw Failure(error.description) }
}

/// A method by name, with a saliency measure (PB-LLM's), or a usage error.
func parseMethod(_ name: String, saliency: String = Method.Saliency.hessian.rawValue) throws -> Method {
    guard let n = Method.Name(rawValue: name) else {
        throw Failure("unknown method '\(name)'; choose one of "
                              + Method.Name.allCases.map(\.rawValue).joined(separator: ", "))
    }
    guard let measure = Method.Saliency(rawValue: saliency) else {
        throw Failure("unknown saliency '\(saliency)'; choose magnitude or hessian")
    }
    var m = Method(n)
    m.saliency = measure
    return m
}

func format(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
