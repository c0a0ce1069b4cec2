import Foundation
import Tensors

/// Writes GGUF v3 files: what `easel convert` uses to re-store a model's weights in another type
/// (e.g. the F32 twin of a quantized file that the llama.cpp parity tests compare against).
/// Layout per ggml's docs/gguf.md: header, metadata, tensor infos, padding to the alignment, data.
public struct GGUFFileWriter {
    public struct PendingTensor {
        public let name: String
        public let type: GGMLType
        /// Row-major (PyTorch) order; written reversed, as ggml's ne.
        public let shape: [Int]
        /// Produces the tensor's bytes when the data section is written, so a converter never
        /// holds more than one tensor in memory.
        public let bytes: () throws -> [UInt8]
    }

    public let alignment: Int
    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    public private(set) var tensors: [PendingTensor] = []

    public init(alignment: Int = 32) {
        precondition(alignment > 0 && alignment % 8 == 0, "GGUF alignment must be a positive multiple of 8")
        self.alignment = alignment
    }

    public mutating func add(_ key: String, _ value: GGUFValue) {
        metadata.removeAll { $0.key == key }
        metadata.append((key, value))
    }

    public mutating func addTensor(name: String, type: GGMLType, shape: [Int], bytes: @escaping () throws -> [UInt8]) {
        tensors.append(PendingTensor(name: name, type: type, shape: shape, bytes: bytes))
    }

    public func write(to path: String) throws {
        var header = ByteWriter()
        header.append(UInt32(0x4655_4747))   // "GGUF" little-endian
        header.append(UInt32(3))
        header.append(UInt64(tensors.count))
        header.append(UInt64(metadata.count + (metadata.contains { $0.key == "general.alignment" } ? 0 : 1)))
        for (key, value) in metadata {
            header.appendString(key)
            header.appendValue(value)
        }
        if !metadata.contains(where: { $0.key == "general.alignment" }) {
            header.appendString("general.alignment")
            header.appendValue(.uint32(UInt32(alignment)))
        }
        var offset = 0
        var sizes: [Int] = []
        for t in tensors {
            guard let size = t.type.byteCount(elements: t.shape.reduce(1, *)) else {
                throw WeightIOError.malformed(file: path, reason: "tensor '\(t.name)' shape \(t.shape) is not whole \(t.type) blocks")
            }
            header.appendString(t.name)
            header.append(UInt32(t.shape.count))
            for d in t.shape.reversed() { header.append(UInt64(d)) }
            header.append(t.type.rawValue)
            header.append(UInt64(offset))
            sizes.append(size)
            offset += (size + alignment - 1) / alignment * alignment
        }
        header.pad(to: alignment)

        guard FileManager.default.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path) else {
            throw WeightIOError.cannotOpen(file: path, reason: "cannot create the file")
        }
        defer { try? out.close() }
        do {
            try out.write(contentsOf: header.bytes)
            for (t, size) in zip(tensors, sizes) {
                var data = try t.bytes()
                guard data.count == size else {
                    throw WeightIOError.malformed(file: path, reason: "tensor '\(t.name)' produced \(data.count) bytes, expected \(size)")
                }
                data.append(contentsOf: [UInt8](repeating: 0, count: (alignment - size % alignment) % alignment))
                try out.write(contentsOf: data)
            }
        } catch let error as WeightIOError {
            throw error
        } catch {
            throw WeightIOError.cannotOpen(file: path, reason: "write failed: \(error.localizedDescription)")
        }
    }
}

/// Little-endian byte assembly for the GGUF header.
private struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func append<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func appendString(_ s: String) {
        let utf8 = Array(s.utf8)
        append(UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    mutating func pad(to alignment: Int) {
        bytes.append(contentsOf: [UInt8](repeating: 0, count: (alignment - bytes.count % alignment) % alignment))
    }

    mutating func appendValue(_ value: GGUFValue) {
        append(Self.typeID(value))
        appendPayload(value)
    }

    mutating func appendPayload(_ value: GGUFValue) {
        switch value {
        case .uint8(let v): append(v)
        case .int8(let v): append(v)
        case .uint16(let v): append(v)
        case .int16(let v): append(v)
        case .uint32(let v): append(v)
        case .int32(let v): append(v)
        case .float32(let v): append(v.bitPattern)
        case .bool(let v): append(UInt8(v ? 1 : 0))
        case .string(let s): appendString(s)
        case .uint64(let v): append(v)
        case .int64(let v): append(v)
        case .float64(let v): append(v.bitPattern)
        case .array(let items):
            // An empty array still needs an element type; uint8 is as good as any.
            append(items.first.map(Self.typeID) ?? 0)
            append(UInt64(items.count))
            for item in items { appendPayload(item) }
        }
    }

    static func typeID(_ value: GGUFValue) -> UInt32 {
        switch value {
        case .uint8: 0
        case .int8: 1
        case .uint16: 2
        case .int16: 3
        case .uint32: 4
        case .int32: 5
        case .float32: 6
        case .bool: 7
        case .string: 8
        case .array: 9
        case .uint64: 10
        case .int64: 11
        case .float64: 12
        }
    }
}

extension GGUFFileWriter {
    /// Re-stores every tensor of `source` as `type` (F32 or F16), keeping all metadata: the F32 twin of a
    /// quantized model holds exactly the values its blocks decode to.
    public static func convert(_ source: GGUFFile, to type: GGMLType, path: String) throws {
        guard type == .f32 || type == .f16 else {
            throw WeightIOError.unsupportedType(name: "(conversion target)", file: path, type: "\(type)")
        }
        var writer = GGUFFileWriter(alignment: source.alignment)
        for key in source.metadataKeys where key != "general.alignment" {
            guard var value = source.metadata[key] else { continue }
            if key == "general.file_type" { value = .uint32(type == .f32 ? 0 : 1) }   // LLAMA_FTYPE_ALL_F32 / MOSTLY_F16
            writer.add(key, value)
        }
        for info in source.tensorInfos {
            let name = info.name
            let shape = info.shape
            writer.addTensor(name: name, type: type, shape: shape) {
                let t = try source.tensor(name)
                if type == .f32 {
                    return Array(UnsafeRawBufferPointer(start: t.data, count: t.count * 4))
                }
                var out = [UInt8](repeating: 0, count: t.count * 2)
                out.withUnsafeMutableBytes { raw in
                    for i in 0..<t.count { raw.storeBytes(of: floatToHalf(t[i]), toByteOffset: i * 2, as: UInt16.self) }
                }
                return out
            }
        }
        try writer.write(to: path)
    }
}
