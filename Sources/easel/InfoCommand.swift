import ArgumentParser
import Foundation
import Tensors
import WeightIO

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a weight file's metadata, tensor table and storage types (GGUF or safetensors).")

    @Argument(help: "A .gguf or .safetensors file, or a folder holding safetensors weights.")
    var model: String

    @Flag(help: "List every tensor, not just the first 40.")
    var allTensors = false

    func run() throws {
        let store = try openWeights(path: model)
        if let gguf = store as? GGUFFile {
            print("GGUF v\(gguf.version), \(gguf.tensorInfos.count) tensors, alignment \(gguf.alignment)")
            print("metadata:")
            for key in gguf.metadataKeys {
                guard let value = gguf.metadata[key] else { continue }
                print("  \(key) = \(Self.render(value))")
            }
        } else {
            print("\(store.tensorNames.count) tensors")
        }
        var bytesByType: [String: Int] = [:], countByType: [String: Int] = [:]
        var parameters = 0
        for name in store.tensorNames {
            let shape = store.shape(of: name) ?? []
            let type = store.type(of: name).map { "\($0)" } ?? "?"
            let n = shape.reduce(1, *)
            parameters += n
            countByType[type, default: 0] += 1
            bytesByType[type, default: 0] += store.type(of: name)?.byteCount(elements: n) ?? 0
        }
        print("tensors (name, type, shape):")
        for name in allTensors ? store.tensorNames : Array(store.tensorNames.prefix(40)) {
            let shape = store.shape(of: name)?.map(String.init).joined(separator: " × ") ?? "?"
            print("  \(name)  \(store.type(of: name).map { "\($0)" } ?? "?")  [\(shape)]")
        }
        if !allTensors && store.tensorNames.count > 40 { print("  … \(store.tensorNames.count - 40) more (--all-tensors)") }
        print("types:")
        for (type, count) in countByType.sorted(by: { $0.key < $1.key }) {
            print("  \(type): \(count) tensors, \(String(format: "%.1f", Double(bytesByType[type] ?? 0) / 1_048_576)) MiB")
        }
        print("parameters: \(parameters) (\(String(format: "%.1f", Double(parameters) / 1e6)) M)")
    }

    static func render(_ value: GGUFValue) -> String {
        switch value {
        case .string(let s):
            let oneLine = s.replacingOccurrences(of: "\n", with: "\\n")
            return oneLine.count > 120 ? "\"\(oneLine.prefix(117))…\" (\(s.count) chars)" : "\"\(oneLine)\""
        case .array(let items):
            let head = items.prefix(5).map(render).joined(separator: ", ")
            return "[\(head)\(items.count > 5 ? ", … \(items.count) items" : "")]"
        case .bool(let b): return "\(b)"
        default:
            if let i = value.int { return "\(i)" }
            if let f = value.float { return "\(f)" }
            return value.typeName
        }
    }
}

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-store a GGUF model's tensors as F32 or F16 (e.g. the F32 twin of a quantized file).")

    @Argument(help: "The source .gguf file.") var input: String
    @Argument(help: "The .gguf file to write; never overwritten unless --force.") var output: String
    @Option(help: "f32 or f16.") var type: String = "f32"
    @Flag(help: "Overwrite the output file if it exists.") var force = false

    func run() throws {
        let target: GGMLType
        switch type.lowercased() {
        case "f32": target = .f32
        case "f16": target = .f16
        default: throw ValidationError("--type must be f32 or f16, not '\(type)'")
        }
        if FileManager.default.fileExists(atPath: output) && !force {
            throw ValidationError("\(output) exists; pass --force to overwrite it")
        }
        try GGUFFileWriter.convert(try GGUFFile(path: input), to: target, path: output)
        print(output)
    }
}
