import ArgumentParser
import Experiments
import Foundation
import Notebook
import Transformer

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
    @Option(help: "The run's teacher (.safetensors): its training and whether it met its criterion go in the header.")
    var teacher: String?

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
        var metadata = try meta.map { line -> (key: String, value: String) in
            guard let eq = line.firstIndex(of: "=") else { throw Failure("--meta '\(line)' is not KEY=VALUE") }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        }
        if let teacher {
            let file: [String: String]
            do { file = try TransformerModel.load(from: URL(fileURLWithPath: teacher)).metadata }
            catch { throw Failure("\(error)") }
            guard let record = TeacherTraining(metadata: file) else {
                throw Failure("\(teacher) has no training record; retrain it with this version's `mos train`")
            }
            metadata.insert(("teacher", record.sentence), at: min(2, metadata.count))
        }
        try Report(title: title, metadata: metadata, sections: sections).write(to: URL(fileURLWithPath: out))
        log("wrote \(out) (\(sections.count) chapter\(sections.count == 1 ? "" : "s"))")
    }
}
