import Foundation
import Tensors
import WeightIO
import XCTest

/// Hand-made broken and hostile safetensors files, and the mapped-file layer under both readers.
final class BadSafetensorsTests: XCTestCase {
    lazy var folder = makeTemporaryFolder()

    func validWriter() -> SafetensorsWriter {
        var w = SafetensorsWriter()
        w.metadata = ["format": "pt"]
        w.addF32("w", shape: [2, 2], values: [1, 2, 3, 4])
        w.addF16("h", shape: [3], values: [1, 2, 3])
        w.addBF16("b", shape: [1, 2], values: [1, 2])
        return w
    }

    /// A file whose header is exactly `json` (unpadded), followed by `dataBytes` zero bytes.
    func file(json: String, dataBytes: Int = 16) -> [UInt8] {
        let header = Array(json.utf8)
        return bytesOf(UInt64(header.count)) + header + [UInt8](repeating: 0, count: dataBytes)
    }

    func expectError(_ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        let path = folder.write(bytes, to: "bad-\(line).safetensors")
        assertWeightIOError(try SafetensorsFile(path: path), file: path, mentions: fragment, file: file, line: line)
    }

    func testEmptyAndTinyFiles() {
        expectError([], "0 bytes is too short")
        expectError([1, 2, 3, 4, 5, 6, 7], "7 bytes is too short")
    }

    func testHeaderLengthLargerThanFile() {
        expectError(bytesOf(UInt64(100)) + Array("{}".utf8), "header length 100 runs past the end of the file (10 bytes)")
        expectError(bytesOf(UInt64.max) + Array("{}".utf8), "over the 100000000-byte limit")
        expectError(bytesOf(UInt64(100_000_001)) + Array("{}".utf8), "over the 100000000-byte limit")
    }

    func testEveryTruncationThrows() {
        let bytes = validWriter().encoded()
        let path = folder.path("truncated.safetensors")
        for length in 0..<bytes.count {
            folder.write(Array(bytes.prefix(length)), to: "truncated.safetensors")
            do {
                _ = try SafetensorsFile(path: path)
                XCTFail("a prefix of \(length) of \(bytes.count) bytes opened")
            } catch let error as WeightIOError {
                XCTAssertTrue(error.description.contains(path), "\(error)")
            } catch {
                XCTFail("\(error)")
            }
        }
    }

    func testInvalidJSON() {
        expectError(file(json: "{\"w\": {\"dtype\": \"F32\", "), "invalid safetensors header")
        expectError(file(json: "[1, 2, 3]"), "invalid safetensors header")
        expectError(file(json: "not json at all"), "invalid safetensors header")
        expectError(file(json: ""), "invalid safetensors header")
        expectError(bytesOf(UInt64(4)) + [0x7B, 0x22, 0xFF, 0x7D], "invalid safetensors header")   // {"\xFF}
        // Deep nesting must be refused by the parser, not recurse off the stack.
        let deep = "{\"w\": " + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + "}"
        expectError(file(json: deep), "invalid safetensors header")
    }

    func testEntriesOfTheWrongShape() {
        expectError(file(json: #"{"w": {"shape": [1], "data_offsets": [0, 4]}}"#), "missing key 'dtype' at w")
        expectError(file(json: #"{"w": {"dtype": "F32", "data_offsets": [0, 4]}}"#), "missing key 'shape'")
        expectError(file(json: #"{"w": {"dtype": "F32", "shape": [1]}}"#), "missing key 'data_offsets'")
        expectError(file(json: #"{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#), "invalid safetensors header")
        expectError(file(json: #"{"w": {"dtype": 7, "shape": [1], "data_offsets": [0, 4]}}"#), "invalid safetensors header")
        expectError(file(json: #"{"w": [1, 2]}"#), "invalid safetensors header")
        expectError(file(json: #"{"__metadata__": {"format": 1}}"#), "invalid safetensors header")
        expectError(file(json: #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}"#), "expected [begin, end]")
        expectError(file(json: #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 1e30]}}"#), "invalid safetensors header")
    }

    func testOffsetsOutOfRange() {
        expectError(file(json: #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 1000]}}"#, dataBytes: 16),
                    "'w' has data_offsets [0, 1000] outside the 16-byte data section")
        expectError(file(json: #"{"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}}"#), "outside")
        expectError(file(json: #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}"#), "outside")
        expectError(file(json: #"{"w": {"dtype": "U8", "shape": [1], "data_offsets": [9223372036854775807, 9223372036854775807]}}"#),
                    "outside")
    }

    func testOffsetsInconsistentWithShape() {
        expectError(file(json: #"{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}}"#),
                    "'w' (F32, shape [2, 2]) needs 16 bytes, but data_offsets [0, 8] hold 8")
        expectError(file(json: #"{"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 8]}}"#), "needs 6 bytes")
    }

    func testAbsurdShapes() {
        expectError(file(json: #"{"w": {"dtype": "F32", "shape": [-1, 4], "data_offsets": [0, 16]}}"#), "negative or overflowing")
        expectError(file(json: #"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 16]}}"#),
                    "negative or overflowing")
        expectError(file(json: #"{"w": {"dtype": "F32", "shape": [4611686018427387904], "data_offsets": [0, 16]}}"#),
                    "needs an overflowing number of bytes")
    }

    /// Dtypes Easel cannot compute with are listed, and only an attempt to read one fails.
    func testUnknownDtypeFailsOnlyWhenRequested() throws {
        var w = validWriter()
        w.add("weird", dtype: "Q9_X", shape: [3], data: [1, 2, 3, 4, 5])
        w.add("ids", dtype: "I64", shape: [1], data: bytesOf(Int64(7)))
        let path = folder.write(w.encoded(), to: "weird.safetensors")
        let s = try SafetensorsFile(path: path)
        XCTAssertEqual(s.tensorNames, ["w", "h", "b", "weird", "ids"])
        XCTAssertEqual(s.dtype(of: "weird"), "Q9_X")
        assertWeightIOError(try s.tensor("weird"), file: path, mentions: "tensor 'weird' in \(path) has type Q9_X")
        assertWeightIOError(try s.weightMatrix("ids"), file: path, mentions: "tensor 'ids' in \(path) has type I64")
        XCTAssertEqual(try s.tensor("w").scalars, [1, 2, 3, 4])
    }

    func testRandomCorruptionNeverCrashes() {
        let original = validWriter().encoded()
        var random = SplitMix64(seed: 0x5AFE_7E25)
        let path = folder.path("fuzz.safetensors")
        for _ in 0..<1000 {
            var bytes = original
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let at = Int(random.next() % UInt64(bytes.count))
                bytes[at] = UInt8(truncatingIfNeeded: random.next())
            }
            folder.write(bytes, to: "fuzz.safetensors")
            do {
                let s = try SafetensorsFile(path: path)
                for name in s.tensorNames {
                    _ = try? s.tensor(name)
                    _ = try? s.weightMatrix(name)
                }
            } catch let error as WeightIOError {
                XCTAssertTrue(error.description.contains(path), "\(error)")
            } catch {
                XCTFail("\(error)")
            }
        }
    }

    // MARK: MappedFile

    func testMappedFileBoundsChecks() throws {
        let path = folder.write([1, 2, 3, 4, 5, 6, 7, 8, 9], to: "nine.bin")
        let f = try MappedFile(path: path)
        XCTAssertEqual(f.count, 9)
        XCTAssertEqual(try f.load(at: 1, as: UInt32.self), 0x0504_0302, "unaligned little-endian load")
        XCTAssertEqual(try f.load(at: 8, as: UInt8.self), 9)
        XCTAssertEqual(Array(try f.bytes(at: 7, count: 2)), [8, 9])
        XCTAssertEqual(try f.bytes(at: 9, count: 0).count, 0)
        assertWeightIOError(try f.load(at: 6, as: UInt32.self), file: path, mentions: "needs 4 bytes at offset 6")
        assertWeightIOError(try f.bytes(at: -1, count: 1), file: path, mentions: "offset -1")
        assertWeightIOError(try f.bytes(at: 1, count: Int.max), file: path, mentions: "the file has 9 bytes")
        assertWeightIOError(try f.bytes(at: Int.max, count: 1), file: path, mentions: "truncated or corrupt")
    }

    func testMappedFileOfAnEmptyFile() throws {
        let path = folder.write([], to: "empty.bin")
        let f = try MappedFile(path: path)
        XCTAssertEqual(f.count, 0)
        XCTAssertNil(f.base)
        XCTAssertEqual(try f.bytes(at: 0, count: 0).count, 0)
        assertWeightIOError(try f.load(at: 0, as: UInt8.self), file: path, mentions: "needs 1 bytes at offset 0")
    }

    func testMappedFileRefusesFoldersAndMissingFiles() {
        assertWeightIOError(try MappedFile(path: folder.url.path), file: folder.url.path, mentions: "not a regular file")
        let missing = folder.path("missing.gguf")
        assertWeightIOError(try MappedFile(path: missing), file: missing, mentions: "cannot open")
        assertWeightIOError(try GGUFFile(path: missing), file: missing, mentions: "No such file")
        assertWeightIOError(try SafetensorsFile(path: folder.url.path), file: folder.url.path, mentions: "not a regular file")
    }

    /// A matrix keeps its mapping alive after the store that made it is gone.
    func testWeightMatrixOutlivesItsStore() throws {
        let path = folder.write(validWriter().encoded(), to: "owner.safetensors")
        var store: SafetensorsFile? = try SafetensorsFile(path: path)
        let m = try store!.weightMatrix("w")
        weak let weakStore = store
        store = nil
        XCTAssertNil(weakStore)
        XCTAssertEqual(m.row(1).loadUnaligned(fromByteOffset: 4, as: Float.self), 4)
    }
}
