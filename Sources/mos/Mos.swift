import ArgumentParser
import Foundation

@main
struct Mos: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mos",
        abstract: "Train, binarize, evaluate and benchmark compact LLaMA-style models on the CPU.",
        discussion: """
        The teacher is a byte-level LLaMA-style transformer (RMSNorm, rotary positions, \
        causal attention, SwiGLU) trained here with hand-written forward and backward passes. \
        Corpora: `synthetic` (an embedded generated language with a known entropy floor) or a text file.
        """,
        subcommands: [Train.self, Binarize.self, SweepCommand.self, Eval.self, Memory.self, Generate.self, Bench.self, Weave.self])

    /// A mistake is one line on standard error and a non-zero exit: the usage
    /// text is what --help is for. Help itself prints as usual.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            guard exitCode(for: error) != .success else { exit(withError: error) }
            let line = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("Error: \(line)\n".utf8))
            Foundation.exit(exitCode(for: error).rawValue)
        }
    }
}
