// Sharded safetensors checkpoints, as transformers and diffusers save them (`save_pretrained` with
// `max_shard_size`): an index JSON whose "weight_map" maps every tensor name to a shard file.
import Foundation
import Tensors

/// `model.safetensors.index.json` (or a diffusers `diffusion_pytorch_model.safetensors.index.json`)
/// and the shards it names, which must lie in the same folder. Every shard is opened and checked
/// up front, and every name in the weight map must be in the shard the map names.
public final class SafetensorsIndex: WeightStore, @unchecked Sendable {
    public let path: String
    /// The shards, ordered by file name (model-00001-of-00003.safetensors, …).
    public let shards: [SafetensorsFile]
    /// Names in the weight map, shard by shard in file order.
    public let tensorNames: [String]
    private let shardByName: [String: SafetensorsFile]

    public init(path: String) throws {
        self.path = path
        let file = try MappedFile(path: path)
        guard file.count <= SafetensorsFile.maximumHeaderLength else {
            throw WeightIOError.malformed(file: path, reason: "\(file.count) bytes is too large for a safetensors index")
        }
        let json = Data(try file.bytes(at: 0, count: file.count))
        let weightMap: [String: String]
        do {
            weightMap = try JSONDecoder().decode(IndexJSON.self, from: json).weight_map
        } catch let error as DecodingError {
            throw WeightIOError.malformed(file: path, reason: "invalid safetensors index: \(describe(error))")
        } catch {
            throw WeightIOError.malformed(file: path, reason: "invalid safetensors index: \(error)")
        }

        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        var shardsByFileName: [String: SafetensorsFile] = [:]
        for fileName in Set(weightMap.values).sorted() {
            // Shards sit beside the index; a name that climbs out of the folder is refused.
            guard !fileName.isEmpty, !fileName.hasPrefix("/"), !fileName.split(separator: "/").contains("..") else {
                throw WeightIOError.malformed(file: path, reason: "shard name '\(fileName)' is not a file in the index's folder")
            }
            shardsByFileName[fileName] = try SafetensorsFile(path: folder.appendingPathComponent(fileName).path)
        }
        let fileNames = shardsByFileName.keys.sorted()
        shards = fileNames.map { shardsByFileName[$0]! }

        var byName: [String: SafetensorsFile] = [:]
        for (name, fileName) in weightMap {
            let shard = shardsByFileName[fileName]!
            guard shard.contains(name) else {
                throw WeightIOError.malformed(
                    file: path, reason: "the weight map puts tensor '\(name)' in \(fileName), which has no such tensor")
            }
            byName[name] = shard
        }
        shardByName = byName
        tensorNames = shards.flatMap { shard in shard.tensorNames.filter { byName[$0] === shard } }
    }

    public func contains(_ name: String) -> Bool { shardByName[name] != nil }

    public func shape(of name: String) -> [Int]? { shardByName[name]?.shape(of: name) }

    public func type(of name: String) -> GGMLType? { shardByName[name]?.type(of: name) }

    public func weightMatrix(_ name: String) throws -> WeightMatrix { try shard(name).weightMatrix(name) }

    public func tensor(_ name: String) throws -> Tensor { try shard(name).tensor(name) }

    public func tensor(_ name: String, expectedShape: [Int]) throws -> Tensor {
        try shard(name).tensor(name, expectedShape: expectedShape)
    }

    private func shard(_ name: String) throws -> SafetensorsFile {
        guard let s = shardByName[name] else { throw WeightIOError.missingTensor(name: name, file: path) }
        return s
    }

    private struct IndexJSON: Decodable {
        let weight_map: [String: String]
    }
}
