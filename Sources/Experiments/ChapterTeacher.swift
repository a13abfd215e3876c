import Foundation
import Corpus
import Notebook
import Transformer

/// The teacher a chapter studies: the checkpoint at `path`, or, when none is
/// given (a chapter run on its own), one trained here with `profile` on
/// `corpus` and kept as `folder`/teacher.safetensors for the next run.
public func chapterTeacher(_ path: String?, profile: Profile, corpus: Corpus, folder: URL, seed: UInt64 = 42) throws -> String {
    if let path { return path }
    let url = folder.appendingPathComponent("teacher.safetensors")
    if FileManager.default.fileExists(atPath: url.path) { return url.path }
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let model = TransformerModel(config: profile.model, seed: seed)
    let progress = Progress(total: profile.steps, label: "teacher")
    _ = train(model, corpus: corpus, profile: profile, seed: seed) { progress.update(step: $0.step) }
    progress.finish()
    try model.save(to: url, metadata: ["method": "fp", "corpus": corpus.name, "profile": profile.name, "seed": String(seed)])
    return url.path
}
