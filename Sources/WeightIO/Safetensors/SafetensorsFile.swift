// Reader for the safetensors format (huggingface/safetensors, format as of safetensors 0.4–0.8).
import Foundation
import Tensors

/// A safetensors file: u64 little-endian header length N, N bytes of JSON
/// `{"name": {"dtype": "F16", "shape": [..], "data_offsets": [begin, end]}, …, "__metadata__": {..}}`,
/// then the data, with offsets relative to byte 8 + N.
///
/// The file is memory-mapped and F32/F16/BF16 tensors are handed out in place (`weightMatrix`), so
/// fp16 weights stay fp16 in memory. Other dtypes (I64 position ids, F64, …) are listed but throw
/// `unsupportedType` naming the key when asked for. Every entry is checked against the file when
/// it is opened: offsets in range and consistent with shape × dtype size.
public final class SafetensorsFile: WeightStore, @unchecked Sendable {
    public let path: String
    public let file: MappedFile
    /// The header's `__metadata__` (string to string; e.g. "format": "pt").
    public let metadata: [String: String]
    /// Tensor names ordered by where their data lies in the file.
    public let tensorNames: [String]
    /// Absolute offset of the data section: 8 + header length.
    public let dataOffset: Int
    private let tensorsByName: [String: StoredTensor]

    /// The reference implementation's limit (safetensors' MAX_HEADER_SIZE); bounds the JSON copy.
    static let maximumHeaderLength = 100_000_000

    public init(path: String) throws {
        let file = try MappedFile(path: path)
        self.path = path
        self.file = file
        guard file.count >= 8 else {
            throw WeightIOError.malformed(file: path, reason: "\(file.count) bytes is too short for a safetensors file (at least 8)")
        }
        let rawLength: UInt64 = try file.load(at: 0)
        guard rawLength <= UInt64(SafetensorsFile.maximumHeaderLength) else {
            throw WeightIOError.malformed(
                file: path, reason: "safetensors header length \(rawLength) is over the \(SafetensorsFile.maximumHeaderLength)-byte limit")
        }
        let headerLength = Int(rawLength)
        guard headerLength <= file.count - 8 else {
            throw WeightIOError.malformed(
                file: path, reason: "safetensors header length \(headerLength) runs past the end of the file (\(file.count) bytes)")
        }
        dataOffset = 8 + headerLength
        let dataLength = file.count - dataOffset
        let header = try SafetensorsFile.decodeHeader(Data(try file.bytes(at: 8, count: headerLength)), path: path)
        metadata = header.metadata

        var byName: [String: StoredTensor] = [:]
        var order: [(begin: Int, name: String)] = []
        for (name, entry) in header.entries {
            let where_ = "tensor '\(name)'"
            guard let elements = checkedElementCount(entry.shape) else {
                throw WeightIOError.malformed(file: path, reason: "\(where_) has shape \(entry.shape): negative or overflowing")
            }
            guard entry.data_offsets.count == 2 else {
                throw WeightIOError.malformed(file: path, reason: "\(where_) has data_offsets \(entry.data_offsets), expected [begin, end]")
            }
            let begin = entry.data_offsets[0], end = entry.data_offsets[1]
            guard begin >= 0, begin <= end, end <= dataLength else {
                throw WeightIOError.malformed(
                    file: path, reason: "\(where_) has data_offsets [\(begin), \(end)] outside the \(dataLength)-byte data section")
            }
            if let size = SafetensorsFile.elementSize(entry.dtype) {
                let (bytes, overflow) = elements.multipliedReportingOverflow(by: size)
                guard !overflow, bytes == end - begin else {
                    throw WeightIOError.malformed(
                        file: path,
                        reason: "\(where_) (\(entry.dtype), shape \(entry.shape)) needs \(overflow ? "an overflowing number of" : "\(bytes)") bytes, but data_offsets [\(begin), \(end)] hold \(end - begin)")
                }
            }
            byName[name] = StoredTensor(name: name, shape: entry.shape, type: SafetensorsFile.ggmlType(entry.dtype),
                                        typeName: entry.dtype, offset: dataOffset + begin, byteCount: end - begin,
                                        elementCount: elements)
            order.append((begin, name))
        }
        tensorsByName = byName
        tensorNames = order.sorted { ($0.begin, $0.name) < ($1.begin, $1.name) }.map(\.name)
    }

    public func contains(_ name: String) -> Bool { tensorsByName[name] != nil }

    public func shape(of name: String) -> [Int]? { tensorsByName[name]?.shape }

    public func type(of name: String) -> GGMLType? { tensorsByName[name]?.type }

    /// The dtype as the file spells it ("F16", "I64", …).
    public func dtype(of name: String) -> String? { tensorsByName[name]?.typeName }

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

    static func ggmlType(_ dtype: String) -> GGMLType? {
        switch dtype {
        case "F32": .f32
        case "F16": .f16
        case "BF16": .bf16
        default: nil
        }
    }

    /// Bytes per element of the dtypes safetensors defines; nil for a dtype it does not.
    static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F64", "I64", "U64": 8
        case "F32", "I32", "U32": 4
        case "F16", "BF16", "I16", "U16": 2
        case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2": 1
        default: nil
        }
    }

    struct Entry: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }

    struct Header {
        var entries: [(String, Entry)] = []
        var metadata: [String: String] = [:]
    }

    static func decodeHeader(_ json: Data, path: String) throws -> Header {
        do {
            return try JSONDecoder().decode(HeaderDecoder.self, from: json).header
        } catch let error as DecodingError {
            throw WeightIOError.malformed(file: path, reason: "invalid safetensors header: \(describe(error))")
        } catch {
            throw WeightIOError.malformed(file: path, reason: "invalid safetensors header: \(error)")
        }
    }

    private struct HeaderDecoder: Decodable {
        var header = Header()
        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: JSONKey.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    header.metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    header.entries.append((key.stringValue, try container.decode(Entry.self, forKey: key)))
                }
            }
        }
    }
}

/// Any key of a JSON object.
struct JSONKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// A decoding error in a sentence: where in the JSON and what was wrong there.
func describe(_ error: DecodingError) -> String {
    func at(_ path: [CodingKey]) -> String {
        path.isEmpty ? "at the top level" : "at " + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case .dataCorrupted(let c): return "\(c.debugDescription) \(at(c.codingPath))" + (c.underlyingError.map { " (\($0))" } ?? "")
    case .keyNotFound(let k, let c): return "missing key '\(k.stringValue)' \(at(c.codingPath))"
    case .typeMismatch(_, let c): return "\(c.debugDescription) \(at(c.codingPath))"
    case .valueNotFound(_, let c): return "\(c.debugDescription) \(at(c.codingPath))"
    @unknown default: return "\(error)"
    }
}
