import Files
import Foundation
import Kernels

/// Saving and loading a model as safetensors. The config travels in the
/// header's `__metadata__` as JSON under "config", so a file is self-describing;
/// other string facts (corpus, seed, steps, ...) ride along under their own keys.
extension TransformerModel {
    public static let formatName = "binarymos-simulator/1"

    public func save(to url: URL, metadata extra: [String: String] = [:]) throws {
        try Self.checkpoint(config, parameters.map { ($0.name, $0.value) }, metadata: extra).write(to: url)
    }

    /// The file `save` writes, for a config and its named tensors.
    static func checkpoint(_ config: ModelConfig, _ tensors: [(name: String, value: Tensor)],
                           metadata extra: [String: String] = [:]) throws -> Safetensors {
        var file = Safetensors(metadata: extra)
        file.metadata["format"] = formatName
        file.metadata["config"] = String(decoding: try JSONEncoder.sorted.encode(config), as: UTF8.self)
        for (name, value) in tensors {
            file.add(name, floats: UnsafeBufferPointer(start: value.data, count: value.count), shape: value.shape)
        }
        return file
    }

    /// Loads a model, checking that every tensor the config implies is present
    /// with the right shape and that nothing unexpected is there.
    public static func load(from url: URL) throws -> (model: TransformerModel, metadata: [String: String]) {
        let path = url.path
        let file = try Safetensors.read(from: url)
        func fail(_ problem: String) -> FileError { FileError(path: path, problem: problem) }
        guard let json = file.metadata["config"] else { throw fail("has no model config in its metadata") }
        guard let config = try? JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)) else {
            throw fail("has an unreadable model config: \(json)")
        }
        let problems = config.problems(readFrom: file)
        guard problems.isEmpty else { throw fail("has an invalid model config: " + problems.joined(separator: "; ")) }
        let model = TransformerModel(config: config, seed: 0)
        let expected = Set(model.parameters.map(\.name))
        if let extra = file.names.first(where: { !expected.contains($0) }) {
            throw fail("has tensor '\(extra)', which a model with this config does not have")
        }
        for p in model.parameters {
            let values = try file.floats(p.name, shape: p.value.shape, path: path)
            values.withUnsafeBufferPointer { p.value.data.update(from: $0.baseAddress!, count: p.value.count) }
        }
        return (model, file.metadata)
    }
}

extension ModelConfig {
    /// The config's problems, and one more for a config read from a file: a model
    /// far larger than the file's data could hold (every weight takes at least a
    /// bit) is refused before anything is allocated for it.
    public func problems(readFrom file: Safetensors) -> [String] {
        guard problems.isEmpty else { return problems }
        return parameterCount > 8 * file.dataBytes
            ? ["it describes \(parameterCount) parameters, more than the file's \(file.dataBytes) bytes of data can hold"]
            : []
    }
}

extension JSONEncoder {
    /// Keys in sorted order, so that the same value always gives the same bytes.
    public static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
