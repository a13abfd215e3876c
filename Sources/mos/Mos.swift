import ArgumentParser

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
}
