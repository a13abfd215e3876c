import ArgumentParser
import Files
import Experiments
import Foundation
import Corpus
import Kernels
import Transformer
import Binarization

extension ActivationPrecision: ExpressibleByArgument {}

/// Steps given on the command line: at least one, and few enough to finish
/// (the paper profile trains for about 13 k; ten million is days on any CPU).
func checkSteps(_ steps: Int?) throws {
    if let steps, !(1...10_000_000).contains(steps) { throw Failure("--steps must be between 1 and 10000000") }
}

/// Checks before the work that a file can be written at `path` (or, with
/// `folder`, that the folder exists or can be made, and takes files).
func checkOutput(_ path: String? = nil, folder: String? = nil) throws {
    do {
        if let path { try AtomicFile.checkTarget(URL(fileURLWithPath: path)) }
        if let folder { try AtomicFile.checkFolder(URL(fileURLWithPath: folder)) }
    } catch let error as FileError { throw Failure(error.description) }
}

/// A command's result as one line of JSON, keys sorted.
func printJSON(_ value: some Encodable) throws {
    print(String(decoding: try JSONEncoder.sorted.encode(value), as: UTF8.self))
}

/// Loads a teacher or a student, turning format problems into one-line errors.
func loadStudent(_ path: String, packed: ActivationPrecision? = nil) throws
    -> (model: TransformerModel, method: Method, metadata: [String: String]) {
    do { return try Student.load(from: URL(fileURLWithPath: path), packed: packed) }
    catch let error as FileError { throw Failure(error.description) }
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
