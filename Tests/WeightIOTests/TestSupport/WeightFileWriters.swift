import Foundation
import Tensors
import WeightIO
import XCTest

/// Writes GGUF files byte by byte, independently of the reader, so tests can make good files of
/// every value type and version and bad files with any field set to anything.
struct GGUFWriter {
    struct TensorEntry {
        var name: [UInt8]
        /// ggml order (ne), fastest dimension first.
        var dims: [UInt64]
        var typeCode: UInt32
        var data: [UInt8]
        /// Written instead of the computed offset, when set.
        var offsetOverride: UInt64?
    }

    var magic: [UInt8] = Array("GGUF".utf8)
    var version: UInt32 = 3
    var metadata: [(key: [UInt8], value: GGUFValue)] = []
    var tensors: [TensorEntry] = []
    /// Overrides the written tensor and metadata counts, when set.
    var tensorCountOverride: UInt64?
    var metadataCountOverride: UInt64?

    mutating func add(_ key: String, _ value: GGUFValue) { metadata.append((Array(key.utf8), value)) }

    /// A Float32 tensor of row-major `shape`.
    mutating func addF32(_ name: String, shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *))
        tensors.append(TensorEntry(name: Array(name.utf8), dims: shape.reversed().map { UInt64($0) }, typeCode: GGMLType.f32.rawValue,
                                   data: values.flatMap { bytesOf($0.bitPattern) }))
    }

    mutating func addF16(_ name: String, shape: [Int], values: [Float]) {
        tensors.append(TensorEntry(name: Array(name.utf8), dims: shape.reversed().map { UInt64($0) }, typeCode: GGMLType.f16.rawValue,
                                   data: values.flatMap { bytesOf(Float16($0).bitPattern) }))
    }

    mutating func addRaw(_ name: String, dims: [UInt64], typeCode: UInt32, data: [UInt8], offset: UInt64? = nil) {
        tensors.append(TensorEntry(name: Array(name.utf8), dims: dims, typeCode: typeCode, data: data, offsetOverride: offset))
    }

    /// general.alignment if the metadata sets it to an integer, else GGUF's default of 32.
    var alignment: Int {
        for (k, v) in metadata where k == Array("general.alignment".utf8) {
            if let a = v.int, a > 0 { return a }
        }
        return 32
    }

    /// The file: no padding after the last tensor's data, so every shorter prefix is truncated.
    func encoded() -> [UInt8] {
        var out: [UInt8] = magic
        out += bytesOf(version)
        out += bytesOf(tensorCountOverride ?? UInt64(tensors.count))
        out += bytesOf(metadataCountOverride ?? UInt64(metadata.count))
        for (key, value) in metadata {
            out += bytesOf(UInt64(key.count)) + key
            out += bytesOf(GGUFWriter.typeCode(value))
            GGUFWriter.appendPayload(value, to: &out)
        }
        var offsets: [UInt64] = []
        var next = 0
        for t in tensors {
            next = roundUp(next, alignment)
            offsets.append(UInt64(next))
            next += t.data.count
        }
        for (t, offset) in zip(tensors, offsets) {
            out += bytesOf(UInt64(t.name.count)) + t.name
            out += bytesOf(UInt32(t.dims.count))
            for d in t.dims { out += bytesOf(d) }
            out += bytesOf(t.typeCode)
            out += bytesOf(t.offsetOverride ?? offset)
        }
        if !tensors.isEmpty {
            out += [UInt8](repeating: 0, count: roundUp(out.count, alignment) - out.count)
            let dataStart = out.count
            for (t, offset) in zip(tensors, offsets) {
                out += [UInt8](repeating: 0, count: dataStart + Int(offset) - out.count)
                out += t.data
            }
        }
        return out
    }

    static func typeCode(_ v: GGUFValue) -> UInt32 {
        switch v {
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

    static func appendPayload(_ v: GGUFValue, to out: inout [UInt8]) {
        switch v {
        case .uint8(let x): out += bytesOf(x)
        case .int8(let x): out += bytesOf(x)
        case .uint16(let x): out += bytesOf(x)
        case .int16(let x): out += bytesOf(x)
        case .uint32(let x): out += bytesOf(x)
        case .int32(let x): out += bytesOf(x)
        case .float32(let x): out += bytesOf(x.bitPattern)
        case .bool(let x): out += [x ? 1 : 0]
        case .string(let s): out += bytesOf(UInt64(s.utf8.count)) + Array(s.utf8)
        case .uint64(let x): out += bytesOf(x)
        case .int64(let x): out += bytesOf(x)
        case .float64(let x): out += bytesOf(x.bitPattern)
        case .array(let values):
            out += bytesOf(values.first.map(typeCode) ?? 0)
            out += bytesOf(UInt64(values.count))
            for e in values { appendPayload(e, to: &out) }
        }
    }
}

/// Writes safetensors files with the header entries in the order given (the Python library sorts
/// them; the reader must not care) and, like the Python library, pads the header to 8 bytes unless asked not to.
struct SafetensorsWriter {
    struct Entry {
        var name: String
        var dtype: String
        var shape: [Int]
        var data: [UInt8]
        /// Written instead of the computed data_offsets, when set.
        var offsetsOverride: [Int]?
    }

    var entries: [Entry] = []
    var metadata: [String: String]?
    var padHeader = true
    /// Written instead of the generated JSON, when set.
    var headerOverride: String?

    mutating func add(_ name: String, dtype: String, shape: [Int], data: [UInt8], offsets: [Int]? = nil) {
        entries.append(Entry(name: name, dtype: dtype, shape: shape, data: data, offsetsOverride: offsets))
    }

    mutating func addF32(_ name: String, shape: [Int], values: [Float]) {
        add(name, dtype: "F32", shape: shape, data: values.flatMap { bytesOf($0.bitPattern) })
    }

    mutating func addF16(_ name: String, shape: [Int], values: [Float]) {
        add(name, dtype: "F16", shape: shape, data: values.flatMap { bytesOf(Float16($0).bitPattern) })
    }

    mutating func addBF16(_ name: String, shape: [Int], values: [Float]) {
        add(name, dtype: "BF16", shape: shape, data: values.flatMap { bytesOf(UInt16($0.bitPattern >> 16)) })
    }

    /// Data is laid out in `entries` order unless `dataOrder` says otherwise.
    func encoded(dataOrder: [Int]? = nil) -> [UInt8] {
        let order = dataOrder ?? Array(entries.indices)
        var offsets = [[Int]](repeating: [], count: entries.count)
        var data: [UInt8] = []
        for i in order {
            offsets[i] = [data.count, data.count + entries[i].data.count]
            data += entries[i].data
        }
        var parts: [String] = []
        if let metadata {
            let fields = metadata.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }
            parts.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
        }
        for (i, e) in entries.enumerated() {
            let o = e.offsetsOverride ?? offsets[i]
            parts.append("\"\(e.name)\":{\"dtype\":\"\(e.dtype)\",\"shape\":\(e.shape),\"data_offsets\":\(o)}")
        }
        var header = Array((headerOverride ?? "{\(parts.joined(separator: ","))}").utf8)
        if padHeader {
            header += [UInt8](repeating: UInt8(ascii: " "), count: roundUp(header.count, 8) - header.count)
        }
        return bytesOf(UInt64(header.count)) + header + data
    }
}

func bytesOf<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

func roundUp(_ n: Int, _ alignment: Int) -> Int { (n + alignment - 1) / alignment * alignment }

extension XCTestCase {
    /// A fresh folder removed when the current test ends (XCTest on Linux keeps test case
    /// instances alive to the end of the run, so a deinit would not do).
    func makeTemporaryFolder() -> TemporaryFolder {
        let folder = TemporaryFolder()
        addTeardownBlock { folder.remove() }
        return folder
    }
}

/// A fresh folder: in /dev/shm where there is one (the fuzz tests rewrite a file thousands of
/// times, which a disk-backed /tmp makes slow), else the system temporary folder.
final class TemporaryFolder {
    let url: URL
    init() {
        let shm = "/dev/shm"
        let base = FileManager.default.isWritableFile(atPath: shm)
            ? URL(fileURLWithPath: shm) : FileManager.default.temporaryDirectory
        url = base.appendingPathComponent("weightio-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func remove() { try? FileManager.default.removeItem(at: url) }

    /// Writes `bytes` to `name` in the folder and returns its path.
    @discardableResult
    func write(_ bytes: [UInt8], to name: String) -> String {
        let path = url.appendingPathComponent(name).path
        if name.contains("/") {
            let parent = URL(fileURLWithPath: path).deletingLastPathComponent()
            try! FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        }
        // Plain stdio: the fuzz tests write thousands of files, and Foundation's Data.write is slower.
        guard let f = fopen(path, "wb") else { fatalError("cannot write \(path)") }
        precondition(bytes.isEmpty || fwrite(bytes, 1, bytes.count, f) == bytes.count, "short write to \(path)")
        fclose(f)
        return path
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// Asserts `body` throws a WeightIOError whose message names `file` and contains `fragment`.
func assertWeightIOError<T>(_ body: @autoclosure () throws -> T, file path: String, mentions fragment: String,
                            file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected a WeightIOError mentioning '\(fragment)', but nothing was thrown", file: file, line: line)
    } catch let error as WeightIOError {
        XCTAssertTrue(error.description.contains(path), "error does not name the file: \(error)", file: file, line: line)
        XCTAssertTrue(error.description.contains(fragment), "error does not mention '\(fragment)': \(error)", file: file, line: line)
    } catch {
        XCTFail("expected a WeightIOError, got \(error)", file: file, line: line)
    }
}
