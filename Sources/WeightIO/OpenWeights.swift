import Foundation

/// Opens a checkpoint as a WeightStore, whatever its container:
/// - a `.gguf` file, a `.safetensors` file, or a sharded index (`*.index.json`, also the
///   variant spelling `model.safetensors.index.fp16.json`);
/// - a folder holding one of those under the names transformers and diffusers save
///   (`model.safetensors`, `diffusion_pytorch_model.safetensors`, their `.fp16` variants and
///   indexes), or a single `.gguf`;
/// - any other file, recognised by its first bytes.
///
/// `variant` is diffusers' variant ("fp16"): when given, the variant files are preferred in a
/// folder; when nil, the full-precision files are, and a folder holding only the fp16 variant
/// (as many SD v1.x downloads do) is still opened.
public func openWeights(path: String, variant: String? = nil) throws -> WeightStore {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw WeightIOError.cannotOpen(file: path, reason: "no such file or folder")
    }
    if isDirectory.boolValue {
        return try openWeightsFolder(path, variant: variant)
    }
    let name = URL(fileURLWithPath: path).lastPathComponent.lowercased()
    if name.hasSuffix(".gguf") { return try GGUFFile(path: path) }
    if name.hasSuffix(".safetensors") { return try SafetensorsFile(path: path) }
    if name.hasSuffix(".json") { return try SafetensorsIndex(path: path) }

    let file = try MappedFile(path: path)
    if file.count >= 4, try file.load(at: 0, as: UInt32.self) == GGUFFile.magic {
        return try GGUFFile(path: path)
    }
    // A safetensors file starts with its header length, and the header with "{".
    if file.count >= 9, try file.load(at: 8, as: UInt8.self) == UInt8(ascii: "{") {
        return try SafetensorsFile(path: path)
    }
    throw WeightIOError.malformed(file: path, reason: "neither a GGUF file nor a safetensors file")
}

/// File names a folder is searched for, best first.
func weightFileCandidates(variant: String?) -> [String] {
    func names(_ variant: String?) -> [String] {
        let v = variant.map { ".\($0)" } ?? ""
        return ["model\(v).safetensors", "model.safetensors.index\(v).json",
                "diffusion_pytorch_model\(v).safetensors", "diffusion_pytorch_model.safetensors.index\(v).json"]
    }
    if let variant { return names(variant) + names(nil) }
    return names(nil) + names("fp16")
}

private func openWeightsFolder(_ folder: String, variant: String?) throws -> WeightStore {
    let url = URL(fileURLWithPath: folder)
    let candidates = weightFileCandidates(variant: variant)
    for name in candidates {
        let candidate = url.appendingPathComponent(name).path
        if FileManager.default.fileExists(atPath: candidate) {
            return try openWeights(path: candidate)
        }
    }
    let ggufs = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
        .filter { $0.lowercased().hasSuffix(".gguf") }.sorted()
    if ggufs.count == 1 {
        return try GGUFFile(path: url.appendingPathComponent(ggufs[0]).path)
    }
    let found = ggufs.isEmpty ? "" : "; it holds several GGUF files (\(ggufs.joined(separator: ", "))): name one"
    throw WeightIOError.cannotOpen(
        file: folder, reason: "no weights found: looked for \(candidates.joined(separator: ", ")) or a single .gguf\(found)")
}
