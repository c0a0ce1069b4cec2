import Foundation
import Tensors
import WeightIO
import XCTest

/// Hand-made broken and hostile GGUF files. Each must throw a WeightIOError naming the file and
/// the problem: never crash, trap, or read out of bounds.
final class BadGGUFTests: XCTestCase {
    lazy var folder = makeTemporaryFolder()

    /// A small valid file with metadata of several types and three tensors.
    func validWriter() -> GGUFWriter {
        var w = GGUFWriter()
        w.add("general.architecture", .string("llama"))
        w.add("llama.block_count", .uint32(2))
        w.add("tokenizer.ggml.tokens", .array([.string("<s>"), .string("a"), .string("b")]))
        w.add("tokenizer.ggml.scores", .array([.float32(0), .float32(-1), .float32(-2)]))
        w.add("nested", .array([.array([.int64(1)]), .array([])]))
        w.addF32("blk.0.w", shape: [2, 4], values: [1, 2, 3, 4, 5, 6, 7, 8])
        w.addF16("blk.0.norm", shape: [4], values: [1, 2, 3, 4])
        w.addRaw("blk.0.q", dims: [32, 2], typeCode: GGMLType.q4_0.rawValue, data: [UInt8](repeating: 0x11, count: 36))
        return w
    }

    func expectError(_ w: GGUFWriter, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        expectError(w.encoded(), fragment, file: file, line: line)
    }

    func expectError(_ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        let path = folder.write(bytes, to: "bad-\(line).gguf")
        assertWeightIOError(try GGUFFile(path: path), file: path, mentions: fragment, file: file, line: line)
    }

    func testValidFileOpens() throws {
        let g = try GGUFFile(path: folder.write(validWriter().encoded(), to: "ok.gguf"))
        XCTAssertEqual(g.tensorNames, ["blk.0.w", "blk.0.norm", "blk.0.q"])
    }

    func testEmptyFile() {
        expectError([], "truncated")
    }

    func testWrongMagic() {
        var w = validWriter()
        w.magic = Array("GGML".utf8)
        expectError(w, "not a GGUF file")
        expectError(Array("PK\u{3}\u{4}not a gguf at all".utf8), "not a GGUF file")
    }

    func testUnsupportedVersions() {
        for version: UInt32 in [0, 1, 4, 0xFFFF_FFFF] {
            var w = validWriter()
            w.version = version
            expectError(w, "unsupported GGUF version \(version)")
        }
        var w = validWriter()
        w.version = UInt32(3).byteSwapped
        expectError(w, "big-endian")
    }

    /// Every prefix of a valid file is a truncated file: all of them must throw, none may crash.
    func testEveryTruncationThrows() {
        let bytes = validWriter().encoded()
        let path = folder.path("truncated.gguf")
        for length in 0..<bytes.count {
            folder.write(Array(bytes.prefix(length)), to: "truncated.gguf")
            do {
                _ = try GGUFFile(path: path)
                XCTFail("a prefix of \(length) of \(bytes.count) bytes opened")
            } catch let error as WeightIOError {
                XCTAssertTrue(error.description.contains(path), "\(error)")
            } catch {
                XCTFail("\(error)")
            }
        }
    }

    func testTensorPastEndOfFile() {
        var w = validWriter()
        w.tensors[1].offsetOverride = 4096
        expectError(w, "'blk.0.norm' (8 bytes at offset 4096 of the data section) lies past the end of the file")
    }

    func testTensorOffsetThatOverflows() {
        var w = validWriter()
        w.tensors[0].offsetOverride = UInt64(Int.max) / 32 * 32
        expectError(w, "lies past the end of the file")
        w.tensors[0].offsetOverride = UInt64.max - 31
        expectError(w, "absurd offset")
    }

    func testAbsurdDimensions() {
        var w = validWriter()
        w.tensors[0].dims = [1 << 62]
        expectError(w, "whose size in bytes overflows")
        w.tensors[0].dims = [4, 1 << 40]
        expectError(w, "lies past the end of the file")
        w.tensors[0].dims = [UInt64.max, 2]
        expectError(w, "absurd dimension")
    }

    func testOverflowingElementCount() {
        var w = validWriter()
        w.tensors[0].dims = [1 << 32, 1 << 32, 1 << 8]
        expectError(w, "whose product overflows")
        // A zero dimension does not hide an overflowing product of the others.
        w.tensors[0].dims = [1 << 40, 1 << 40, 0]
        expectError(w, "whose product overflows")
    }

    func testTooManyDimensions() {
        var w = validWriter()
        w.tensors[0].dims = [2, 2, 1, 1, 2]
        expectError(w, "'blk.0.w' has 5 dimensions")
        w.tensors[0].dims = [UInt64](repeating: 1, count: 1000)
        expectError(w, "1000 dimensions")
    }

    func testRowsThatAreNotWholeBlocks() {
        var w = validWriter()
        w.tensors[2].dims = [16, 4]
        expectError(w, "rows of 16 elements, not whole blocks of 32")
    }

    func testUnknownGGMLType() {
        for code: UInt32 in [4, 5, 99, .max] {
            var w = validWriter()
            w.tensors[0].typeCode = code
            expectError(w, "'blk.0.w' has unknown ggml type \(code)")
        }
    }

    func testMisalignedOffset() {
        var w = validWriter()
        w.tensors[1].offsetOverride = 36
        expectError(w, "offset 36 is not a multiple of the alignment 32")
    }

    func testDuplicateTensorNames() {
        var w = validWriter()
        w.tensors[1].name = Array("blk.0.w".utf8)
        expectError(w, "duplicate tensor name 'blk.0.w'")
    }

    func testDuplicateMetadataKeys() {
        var w = validWriter()
        w.add("llama.block_count", .uint32(3))
        expectError(w, "duplicate metadata key 'llama.block_count'")
    }

    func testBadUTF8() {
        var w = validWriter()
        w.metadata[1].key = [0x6C, 0xFF, 0xFE, 0x61]
        expectError(w, "the key of metadata entry 1 at offset")
        expectError(w, "is not valid UTF-8")
        var t = validWriter()
        t.tensors[0].name = [0x62, 0xC3, 0x28]
        expectError(t, "the name of tensor 0 at offset")
        var v = validWriter()
        v.metadata[0].value = .string("x")
        var bytes = v.encoded()
        let at = bytes.firstIndex(of: UInt8(ascii: "x"))!
        bytes[at] = 0x80                                  // a lone continuation byte
        expectError(bytes, "the value of 'general.architecture' at offset")
    }

    func testBadAlignment() {
        for value: GGUFValue in [.uint32(0), .uint32(3), .uint32(48), .string("32"), .int32(-32)] {
            var w = validWriter()
            w.add("general.alignment", value)
            expectError(w, "general.alignment is")
        }
    }

    func testUnknownValueTypes() {
        var bytes = validWriter().encoded()
        // The first value type follows magic, version, two counts and the key "general.architecture".
        let typeOffset = 4 + 4 + 8 + 8 + 8 + "general.architecture".utf8.count
        XCTAssertEqual(Array(bytes[typeOffset..<typeOffset + 4]), bytesOf(UInt32(8)))
        bytes.replaceSubrange(typeOffset..<typeOffset + 4, with: bytesOf(UInt32(13)))
        expectError(bytes, "'general.architecture' has unknown value type 13")

        var w = validWriter()
        w.metadata = [(Array("arr".utf8), .array([.uint8(1)]))]
        var arrayBytes = w.encoded()
        let elementTypeOffset = 4 + 4 + 8 + 8 + 8 + 3 + 4
        arrayBytes.replaceSubrange(elementTypeOffset..<elementTypeOffset + 4, with: bytesOf(UInt32(77)))
        expectError(arrayBytes, "'arr' has arrays of unknown value type 77")
    }

    func testBoolOtherThanZeroOrOne() {
        var w = validWriter()
        w.metadata = [(Array("flag".utf8), .bool(true))]
        var bytes = w.encoded()
        let valueOffset = 4 + 4 + 8 + 8 + 8 + 4 + 4
        XCTAssertEqual(bytes[valueOffset], 1)
        bytes[valueOffset] = 2
        expectError(bytes, "'flag' has bool byte 2")
    }

    /// A header of magic, version 3 and the given counts, for files written field by field.
    func header(tensors: UInt64, metadata: UInt64) -> [UInt8] {
        Array("GGUF".utf8) + bytesOf(UInt32(3)) + bytesOf(tensors) + bytesOf(metadata)
    }

    func key(_ s: String) -> [UInt8] { bytesOf(UInt64(s.utf8.count)) + Array(s.utf8) }

    func testHugeStringLength() {
        expectError(header(tensors: 0, metadata: 1) + bytesOf(UInt64(1) << 62) + [UInt8](repeating: 0x61, count: 20),
                    "the key of metadata entry 0 claims 4611686018427387904 bytes")
        expectError(header(tensors: 0, metadata: 1) + key("k") + bytesOf(UInt32(8)) + bytesOf(UInt64.max),
                    "the value of 'k' claims")
        expectError(header(tensors: 1, metadata: 0) + bytesOf(UInt64(1) << 40) + [UInt8](repeating: 0, count: 40),
                    "the name of tensor 0 claims")
    }

    func testHugeArrayCount() {
        for elementType: UInt32 in [0, 8, 9, 12] {   // uint8, string, array, float64
            expectError(header(tensors: 0, metadata: 1) + key("arr") + bytesOf(UInt32(9)) + bytesOf(elementType)
                            + bytesOf(UInt64(1) << 60) + [UInt8](repeating: 0, count: 64),
                        "the element count of 'arr' is 1152921504606846976")
        }
        // 9 strings need at least 72 bytes for their lengths: 64 bytes left is not enough.
        expectError(header(tensors: 0, metadata: 1) + key("arr") + bytesOf(UInt32(9)) + bytesOf(UInt32(8))
                        + bytesOf(UInt64(9)) + [UInt8](repeating: 0, count: 64),
                    "the element count of 'arr' is 9")
    }

    /// An array the file really holds but that is far larger than any real vocabulary.
    func testArrayOverTheCountCap() {
        let n = (1 << 24) + 1
        expectError(header(tensors: 0, metadata: 1) + key("arr") + bytesOf(UInt32(9)) + bytesOf(UInt32(0))
                        + bytesOf(UInt64(n)) + [UInt8](repeating: 7, count: n),
                    "'arr' has 16777217 elements, more than the 16777216 Easel accepts")
    }

    func testHugeCounts() {
        expectError(header(tensors: UInt64.max, metadata: 0), "the tensor count is 18446744073709551615")
        expectError(header(tensors: 0, metadata: 1 << 50), "the metadata count is")
        // Two tensor infos need at least 48 bytes; 8 (the metadata count) + 30 follow.
        expectError(header(tensors: 2, metadata: 0) + [UInt8](repeating: 0, count: 30), "the tensor count is 2")
    }

    func testArraysNestedTooDeep() {
        var value = GGUFValue.array([.uint8(7)])
        for _ in 0..<9 { value = .array([value]) }
        var w = GGUFWriter()
        w.add("deep", value)
        expectError(w, "'deep' nests arrays deeper than 8")
        // A hostile file nesting a million levels must not recurse off the stack.
        var deep = header(tensors: 0, metadata: 1) + key("deep") + bytesOf(UInt32(9))
        for _ in 0..<100_000 { deep += bytesOf(UInt32(9)) + bytesOf(UInt64(1)) }
        expectError(deep, "nests arrays deeper")
    }

    /// Random byte changes to a valid file (a fixed seed, so failures reproduce): opening and then
    /// reading every tensor must either work or throw a WeightIOError naming the file.
    func testRandomCorruptionNeverCrashes() {
        let original = validWriter().encoded()
        var random = SplitMix64(seed: 0x5EED_0F_6606)
        let path = folder.path("fuzz.gguf")
        var opened = 0
        for _ in 0..<2000 {
            var bytes = original
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let at = Int(random.next() % UInt64(bytes.count))
                bytes[at] = random.next() % 3 == 0 ? 0xFF : UInt8(truncatingIfNeeded: random.next())
            }
            if random.next() % 8 == 0 { bytes.removeLast(Int(random.next() % UInt64(bytes.count))) }
            folder.write(bytes, to: "fuzz.gguf")
            do {
                let g = try GGUFFile(path: path)
                opened += 1
                for name in g.tensorNames {
                    _ = try? g.tensor(name)
                    _ = try? g.weightMatrix(name)
                }
            } catch let error as WeightIOError {
                XCTAssertTrue(error.description.contains(path), "\(error)")
            } catch {
                XCTFail("\(error)")
            }
        }
        XCTAssertGreaterThan(opened, 0, "some corruptions (in tensor data) leave the file readable")
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator, so fuzz runs are reproducible.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
