// Reader for GGUF versions 2 and 3, after ggml/docs/gguf.md and llama.cpp's gguf.cpp checks.
import Tensors

/// A GGUF file: metadata, tensor infos, and tensor data read in place from the memory-mapped file.
///
/// Layout (little-endian): magic "GGUF", u32 version, u64 tensor count, u64 metadata count, the
/// metadata key/value pairs, the tensor infos (name, u32 n_dims, u64 ne[n_dims], u32 ggml type,
/// u64 offset), then padding to `alignment` and the tensor data. Version 3 only added big-endian
/// files, which have the same layout; version 1 (u32 counts) has been obsolete since 2023 and is rejected.
///
/// Everything read from the header is checked before it is used: counts and lengths against the
/// bytes left, dimensions and products for overflow, every tensor's data against the file's end
/// and the alignment, so a truncated or hostile file throws `WeightIOError` naming the file.
public final class GGUFFile: WeightStore, @unchecked Sendable {
    public let path: String
    public let file: MappedFile
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// `general.alignment`, 32 when absent.
    public let alignment: Int
    /// Tensor infos in file order.
    public let tensorInfos: [GGUFTensorInfo]
    /// Absolute offset of the data section (tensor offsets in the header are relative to it).
    public let dataOffset: Int
    /// Tensor names in file order.
    public let tensorNames: [String]
    private let tensorsByName: [String: StoredTensor]
    private let infoIndex: [String: Int]

    /// "GGUF" read as a little-endian u32.
    static let magic: UInt32 = 0x4655_4747
    static let defaultAlignment = 32
    /// ggml's GGML_MAX_DIMS.
    static let maximumDimensions = 4
    /// Arrays of arrays are legal but no real file nests deeply; bounding the depth keeps a hostile
    /// file from recursing the reader off the stack.
    static let maximumNesting = 8
    /// The largest vocabularies are ~256k tokens. A cap far above that stops a file from making
    /// the reader build an array of hundreds of millions of values, each many times its file size.
    static let maximumArrayCount = 1 << 24

    public init(path: String) throws {
        let file = try MappedFile(path: path)
        self.path = path
        self.file = file
        var reader = GGUFReader(file: file)

        let magic: UInt32 = try reader.read("the magic number")
        guard magic == GGUFFile.magic else {
            let shown = try file.bytes(at: 0, count: 4).map { String($0, radix: 16) }.joined(separator: " ")
            throw WeightIOError.malformed(file: path, reason: "not a GGUF file: the magic bytes are \(shown), expected 47 47 55 46 (\"GGUF\")")
        }
        let version: UInt32 = try reader.read("the version")
        guard version == 2 || version == 3 else {
            if version.byteSwapped == 2 || version.byteSwapped == 3 {
                throw WeightIOError.malformed(file: path, reason: "big-endian GGUF (version \(version.byteSwapped)) is not supported")
            }
            throw WeightIOError.malformed(file: path, reason: "unsupported GGUF version \(version) (Easel reads versions 2 and 3)")
        }
        self.version = version
        let tensorCount = try reader.count("the tensor count", minimumBytesEach: 8 + 4 + 4 + 8)
        let metadataCount = try reader.count("the metadata count", minimumBytesEach: 8 + 4 + 1)

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        keys.reserveCapacity(metadataCount)
        for i in 0..<metadataCount {
            let key = try reader.string("the key of metadata entry \(i)")
            let rawType: UInt32 = try reader.read("the value type of '\(key)'")
            let value = try reader.value(rawType: rawType, key: key, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw WeightIOError.malformed(file: path, reason: "duplicate metadata key '\(key)'")
            }
            keys.append(key)
        }
        self.metadata = metadata
        metadataKeys = keys

        var alignment = GGUFFile.defaultAlignment
        if let value = metadata["general.alignment"] {
            guard let a = value.int, a > 0, a.nonzeroBitCount == 1 else {
                throw WeightIOError.malformed(file: path, reason: "general.alignment is \(value), not a power of two")
            }
            alignment = a
        }
        self.alignment = alignment

        struct RawInfo { let name: String, dimensions: [Int], type: GGMLType, offset: Int }
        var raw: [RawInfo] = []
        raw.reserveCapacity(tensorCount)
        var seen = Set<String>()
        for i in 0..<tensorCount {
            let name = try reader.string("the name of tensor \(i)")
            guard seen.insert(name).inserted else {
                throw WeightIOError.malformed(file: path, reason: "duplicate tensor name '\(name)'")
            }
            let rank: UInt32 = try reader.read("the dimension count of tensor '\(name)'")
            guard rank <= GGUFFile.maximumDimensions else {
                throw WeightIOError.malformed(file: path, reason: "tensor '\(name)' has \(rank) dimensions (at most \(GGUFFile.maximumDimensions))")
            }
            var dims: [Int] = []
            for d in 0..<Int(rank) {
                let ne: UInt64 = try reader.read("dimension \(d) of tensor '\(name)'")
                guard let n = Int(exactly: ne) else {
                    throw WeightIOError.malformed(file: path, reason: "tensor '\(name)' has absurd dimension \(ne)")
                }
                dims.append(n)
            }
            let typeCode: UInt32 = try reader.read("the type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: typeCode) else {
                throw WeightIOError.malformed(file: path, reason: "tensor '\(name)' has unknown ggml type \(typeCode)")
            }
            let offset: UInt64 = try reader.read("the offset of tensor '\(name)'")
            guard let relative = Int(exactly: offset) else {
                throw WeightIOError.malformed(file: path, reason: "tensor '\(name)' has absurd offset \(offset)")
            }
            raw.append(RawInfo(name: name, dimensions: dims, type: type, offset: relative))
        }

        let (padded, overflow) = reader.offset.addingReportingOverflow(alignment - 1)
        guard !overflow else { throw WeightIOError.malformed(file: path, reason: "data section offset overflows") }
        let dataOffset = padded / alignment * alignment
        self.dataOffset = dataOffset

        var infos: [GGUFTensorInfo] = []
        infos.reserveCapacity(raw.count)
        var byName: [String: StoredTensor] = [:]
        for r in raw {
            guard let elements = checkedElementCount(r.dimensions) else {
                throw WeightIOError.malformed(file: path, reason: "tensor '\(r.name)' has dimensions \(r.dimensions) whose product overflows")
            }
            guard (r.dimensions.first ?? 1) % r.type.blockSize == 0 else {
                throw WeightIOError.malformed(
                    file: path, reason: "tensor '\(r.name)' has \(r.type) rows of \(r.dimensions.first ?? 1) elements, not whole blocks of \(r.type.blockSize)")
            }
            guard let bytes = r.type.byteCount(elements: elements) else {
                throw WeightIOError.malformed(
                    file: path, reason: "tensor '\(r.name)' has dimensions \(r.dimensions) whose size in bytes overflows")
            }
            guard r.offset % alignment == 0 else {
                throw WeightIOError.malformed(file: path, reason: "tensor '\(r.name)' offset \(r.offset) is not a multiple of the alignment \(alignment)")
            }
            let (start, o1) = dataOffset.addingReportingOverflow(r.offset)
            let (end, o2) = start.addingReportingOverflow(bytes)
            guard !o1, !o2, end <= file.count else {
                throw WeightIOError.malformed(
                    file: path,
                    reason: "tensor '\(r.name)' (\(bytes) bytes at offset \(r.offset) of the data section) lies past the end of the file (\(file.count) bytes)")
            }
            let info = GGUFTensorInfo(name: r.name, dimensions: r.dimensions, type: r.type, offset: start,
                                      byteCount: bytes, elementCount: elements)
            infos.append(info)
            byName[r.name] = StoredTensor(name: r.name, shape: info.shape, type: r.type, typeName: r.type.description,
                                          offset: start, byteCount: bytes, elementCount: elements)
        }
        tensorInfos = infos
        tensorNames = infos.map(\.name)
        tensorsByName = byName
        infoIndex = Dictionary(uniqueKeysWithValues: infos.enumerated().map { ($1.name, $0) })
    }

    public func contains(_ name: String) -> Bool { tensorsByName[name] != nil }

    public func shape(of name: String) -> [Int]? { tensorsByName[name]?.shape }

    public func type(of name: String) -> GGMLType? { tensorsByName[name]?.type }

    public func tensorInfo(_ name: String) -> GGUFTensorInfo? { infoIndex[name].map { tensorInfos[$0] } }

    /// A tensor's stored bytes, whatever its type (quantized blocks as ggml lays them out), for
    /// code that decodes blocks itself, such as the kernel tests. Valid while this file lives.
    public func bytes(of name: String) throws -> UnsafeRawBufferPointer {
        let t = try stored(name)
        return try file.bytes(at: t.offset, count: t.byteCount)
    }

    public func weightMatrix(_ name: String) throws -> WeightMatrix {
        try StoredTensorReader.weightMatrix(stored(name), in: file)
    }

    public func tensor(_ name: String) throws -> Tensor {
        try StoredTensorReader.tensor(stored(name), in: file)
    }

    public func tensor(_ name: String, expectedShape: [Int]) throws -> Tensor {
        try StoredTensorReader.tensor(stored(name), in: file, expectedShape: expectedShape)
    }

    private func stored(_ name: String) throws -> StoredTensor {
        guard let t = tensorsByName[name] else { throw WeightIOError.missingTensor(name: name, file: path) }
        return t
    }
}

/// A cursor over the header of a mapped GGUF file. Each read says what it was reading, so a
/// truncated file's error tells which field ran off the end.
struct GGUFReader {
    let file: MappedFile
    var offset = 0

    var remaining: Int { file.count - offset }

    mutating func read<T: BitwiseCopyable>(_ what: @autoclosure () -> String) throws -> T {
        guard file.contains(offset: offset, count: MemoryLayout<T>.size) else { throw truncated(what()) }
        let value: T = try file.load(at: offset)
        offset += MemoryLayout<T>.size
        return value
    }

    /// A u64 count of items that each take at least `minimumBytesEach` bytes: rejected before
    /// anything is allocated when the rest of the file cannot hold that many.
    mutating func count(_ what: @autoclosure () -> String, minimumBytesEach: Int) throws -> Int {
        let n: UInt64 = try read(what())
        guard n <= UInt64(remaining / minimumBytesEach) else {
            throw WeightIOError.malformed(
                file: file.path, reason: "\(what()) is \(n), but only \(remaining) bytes follow at offset \(offset)")
        }
        return Int(n)
    }

    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let length: UInt64 = try read(what())
        guard length <= UInt64(remaining) else {
            throw WeightIOError.malformed(
                file: file.path, reason: "\(what()) claims \(length) bytes, but only \(remaining) bytes follow at offset \(offset)")
        }
        let bytes = try file.bytes(at: offset, count: Int(length))
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw WeightIOError.malformed(file: file.path, reason: "\(what()) at offset \(offset) is not valid UTF-8")
        }
        offset += Int(length)
        return s
    }

    mutating func value(rawType: UInt32, key: String, depth: Int) throws -> GGUFValue {
        guard let type = GGUFValueType(rawValue: rawType) else {
            throw WeightIOError.malformed(file: file.path, reason: "metadata '\(key)' has unknown value type \(rawType)")
        }
        // Built only for an error message: a vocabulary has ~10^5 values.
        func what() -> String { "the value of '\(key)'" }
        switch type {
        case .uint8: return .uint8(try read(what()))
        case .int8: return .int8(try read(what()))
        case .uint16: return .uint16(try read(what()))
        case .int16: return .int16(try read(what()))
        case .uint32: return .uint32(try read(what()))
        case .int32: return .int32(try read(what()))
        case .float32: return .float32(try read(what()))
        case .uint64: return .uint64(try read(what()))
        case .int64: return .int64(try read(what()))
        case .float64: return .float64(try read(what()))
        case .bool:
            let b: UInt8 = try read(what())
            guard b <= 1 else { throw WeightIOError.malformed(file: file.path, reason: "metadata '\(key)' has bool byte \(b)") }
            return .bool(b == 1)
        case .string:
            return .string(try string(what()))
        case .array:
            guard depth < GGUFFile.maximumNesting else {
                throw WeightIOError.malformed(file: file.path, reason: "metadata '\(key)' nests arrays deeper than \(GGUFFile.maximumNesting)")
            }
            let elementCode: UInt32 = try read("the element type of '\(key)'")
            guard let elementType = GGUFValueType(rawValue: elementCode) else {
                throw WeightIOError.malformed(file: file.path, reason: "metadata '\(key)' has arrays of unknown value type \(elementCode)")
            }
            let n = try count("the element count of '\(key)'", minimumBytesEach: elementType.minimumByteCount)
            guard n <= GGUFFile.maximumArrayCount else {
                throw WeightIOError.malformed(
                    file: file.path, reason: "metadata '\(key)' has \(n) elements, more than the \(GGUFFile.maximumArrayCount) Easel accepts")
            }
            var values: [GGUFValue] = []
            values.reserveCapacity(n)
            for _ in 0..<n {
                values.append(try value(rawType: elementCode, key: key, depth: depth + 1))
            }
            return .array(values)
        }
    }

    func truncated(_ what: String) -> WeightIOError {
        .malformed(file: file.path, reason: "truncated: the file (\(file.count) bytes) ends at offset \(offset) while reading \(what)")
    }
}
