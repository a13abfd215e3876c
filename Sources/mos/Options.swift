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
func loadStudent(_ path: String, packed: ActivationPrecision? = nil) throws
    -> (model: TransformerModel, method: Method, metadata: [String: String]) {
    do { return try Student.load(from: URL(fileURLWithPath: path), packed: packed) }
    catch let error as SafetensorsError { throw Failure(error.description) }
}

/// `--method NAME` and that method's own options (`--experts 4`,
/// `--salient 0.05`, ...), which the registry declares: a command does not
/// list them, so a new method's options reach every command by themselves.
/// A Boolean option also reads as `--NAME` (true) and `--no-NAME` (false).
/// Where a command sweeps, a value may be a comma-separated list.
struct MethodArguments: ParsableArguments {
    @Option(help: "The method: \(Method.names.joined(separator: ", ")); its options are listed below.")
    var method: String
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The method's options (see below).", visibility: .hidden))
    var options: [String] = []

    /// Every combination of the listed values.
    func grid() throws -> [Method] {
        guard let base = Method(named: method) else {
            throw Failure("unknown method '\(method)'; choose one of \(Method.names.joined(separator: ", "))")
        }
        var grid = [base]
        for (name, text) in try pairs() {
            let values = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            grid = try grid.flatMap { m in
                try values.map { value -> Method in
                    var copy = m
                    do { try copy.set(name, to: value) } catch let error as MethodError { throw Failure(error.description) }
                    return copy
                }
            }
        }
        for m in grid { if let problem = m.problems.first { throw Failure(problem) } }
        return grid
    }

    /// One setting of every option.
    func single() throws -> Method {
        let grid = try grid()
        guard grid.count == 1 else { throw Failure("give one value per option here, not a list") }
        return grid[0]
    }

    private func pairs() throws -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = [], i = 0
        while i < options.count {
            let token = options[i]
            guard token.hasPrefix("--"), token.count > 2 else { throw Failure("unexpected argument '\(token)'") }
            var name = String(token.dropFirst(2))
            if let equals = name.firstIndex(of: "=") {
                result.append((String(name[..<equals]), String(name[name.index(after: equals)...])))
            } else if i + 1 < options.count, !options[i + 1].hasPrefix("--") {
                result.append((name, options[i + 1]))
                i += 1
            } else if name.hasPrefix("no-") {
                name.removeFirst(3)
                result.append((name, "false"))
            } else {
                result.append((name, "true"))
            }
            i += 1
        }
        return result
    }
}

/// The methods and their options, for a command's --help.
let methodHelp = "Methods and their options:\n" + Method.help

func format(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
