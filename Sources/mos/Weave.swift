import ArgumentParser
import Foundation
import Notebook

struct Weave: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Weave chapter sources and the artifacts their runs wrote into one HTML report.",
        discussion: """
        Each chapter is given as SOURCE=ARTIFACTS: the chapter's Swift source (prose in Playground \
        markup) and the folder its run wrote CSV, SVG and Markdown into. Sections appear in the given order.
        """)

    @Argument(help: "Chapters as SOURCE=ARTIFACTS pairs.") var chapters: [String]
    @Option(help: "The report to write (HTML).") var out: String
    @Option(help: "The report's title.") var title = "Mixture of Scales on a CPU: a BinaryMoS notebook"
    @Option(help: "A KEY=VALUE line for the report's header (repeatable).") var meta: [String] = []

    func run() throws {
        guard !chapters.isEmpty else { throw Failure("name at least one chapter as SOURCE=ARTIFACTS") }
        try checkOutput(out)
        let weaver = Weaver()
        let sections = try chapters.map { pair -> Weaver.Section in
            guard let eq = pair.firstIndex(of: "=") else {
                throw Failure("'\(pair)' is not SOURCE=ARTIFACTS")
            }
            let source = URL(fileURLWithPath: String(pair[..<eq]))
            let artifacts = URL(fileURLWithPath: String(pair[pair.index(after: eq)...]))
            do { return try weaver.weave(chapter: source, artifacts: artifacts) }
            catch let error as WeaverError { throw Failure(error.description) }
        }
        let metadata = try meta.map { line -> (key: String, value: String) in
            guard let eq = line.firstIndex(of: "=") else { throw Failure("--meta '\(line)' is not KEY=VALUE") }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        }
        try Report(title: title, metadata: metadata, sections: sections).write(to: URL(fileURLWithPath: out))
        log("wrote \(out) (\(sections.count) chapter\(sections.count == 1 ? "" : "s"))")
    }
}
