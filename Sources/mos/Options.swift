import ArgumentParser
import Foundation
import Corpus
import Kernels
import Transformer
import Binarization

/// Options every computing command shares.
extension ActivationPrecision: ExpressibleByArgument {}

struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for the numerical work (default: all cores).")
    var threads: Int = Threads.available

    func apply() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        Threads.use(threads)
    }
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
            throw ValidationError("unknown profile '\(profile)'; choose one of \(Profile.names.joined(separator: ", "))")
        }
        return p
    }
}

/// A one-line error for the user; ArgumentParser prints it and exits non-zero.
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Loads a teacher or a student, turning format problems into one-line errors.
func loadStudent(_ path: String) throws -> (model: TransformerModel, method: Method, metadata: [String: String]) {
    do { return try Student.load(from: URL(fileURLWithPath: path)) }
    catch let error as SafetensorsError { throw Failure(error.description) }
}

/// A method by name, with a saliency measure (PB-LLM's), or a usage error.
func parseMethod(_ name: String, saliency: String = Method.Saliency.hessian.rawValue) throws -> Method {
    guard let n = Method.Name(rawValue: name) else {
        throw ValidationError("unknown method '\(name)'; choose one of "
                              + Method.Name.allCases.map(\.rawValue).joined(separator: ", "))
    }
    guard let measure = Method.Saliency(rawValue: saliency) else {
        throw ValidationError("unknown saliency '\(saliency)'; choose magnitude or hessian")
    }
    var m = Method(n)
    m.saliency = measure
    return m
}

func format(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
