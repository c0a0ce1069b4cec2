import Foundation
import Tensors
import WeightIO
import XCTest

final class GGUFReaderTests: XCTestCase {
    lazy var folder = makeTemporaryFolder()

    /// One value of each of the 13 types, plus arrays of strings, of arrays, and an empty array.
    static let allValueTypes: [(String, GGUFValue)] = [
        ("t.uint8", .uint8(200)), ("t.int8", .int8(-100)), ("t.uint16", .uint16(60000)), ("t.int16", .int16(-30000)),
        ("t.uint32", .uint32(4_000_000_000)), ("t.int32", .int32(-2_000_000_000)), ("t.float32", .float32(0.15625)),
        ("t.bool", .bool(true)), ("t.string", .string("héllo, wörld ✓")),
        ("t.array.int32", .array([.int32(1), .int32(-2), .int32(3)])),
        ("t.uint64", .uint64(UInt64.max)), ("t.int64", .int64(Int64.min)), ("t.float64", .float64(-1e300)),
        ("t.array.strings", .array([.string("a"), .string(""), .string("Ġ t")])),
        ("t.array.arrays", .array([.array([.uint8(1), .uint8(2)]), .array([.uint8(3)])])),
        ("t.array.empty", .array([])),
        ("t.array.float32", .array([.float32(0.5), .float32(-2)])),
    ]

    func makeFile(version: UInt32 = 3, alignment: Int? = nil) -> GGUFWriter {
        var w = GGUFWriter()
        w.version = version
        w.add("general.architecture", .string("llama"))
        if let alignment { w.add("general.alignment", .uint32(UInt32(alignment))) }
        for (k, v) in GGUFReaderTests.allValueTypes { w.add(k, v) }
        w.addF32("matrix", shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        w.addF16("vector", shape: [5], values: [0.5, -1, 2, 65504, 0])
        w.addF32("conv", shape: [2, 3, 1, 2], values: (0..<12).map(Float.init))
        return w
    }

    func checkRoundTrip(version: UInt32, alignment: Int?) throws {
        let w = makeFile(version: version, alignment: alignment)
        let path = folder.write(w.encoded(), to: "v\(version)-a\(alignment ?? 0).gguf")
        let g = try GGUFFile(path: path)
        XCTAssertEqual(g.version, version)
        XCTAssertEqual(g.alignment, alignment ?? 32)
        XCTAssertEqual(g.metadataKeys, w.metadata.map { String(decoding: $0.key, as: UTF8.self) })
        for (k, v) in GGUFReaderTests.allValueTypes { XCTAssertEqual(g.metadata[k], v, k) }
        XCTAssertEqual(g.architecture, "llama")

        XCTAssertEqual(g.tensorNames, ["matrix", "vector", "conv"])
        XCTAssertEqual(g.tensorInfos.map(\.dimensions), [[3, 2], [5], [2, 1, 3, 2]])
        XCTAssertEqual(g.tensorInfos.map(\.type), [.f32, .f16, .f32])
        for info in g.tensorInfos {
            XCTAssertEqual((info.offset - g.dataOffset) % g.alignment, 0, info.name)
            XCTAssertEqual(g.dataOffset % g.alignment, 0)
        }
        XCTAssertEqual(g.shape(of: "matrix"), [2, 3])
        XCTAssertEqual(g.shape(of: "conv"), [2, 3, 1, 2])
        XCTAssertEqual(g.type(of: "vector"), .f16)
        XCTAssertNil(g.shape(of: "nope"))
        XCTAssertTrue(g.contains("vector"))
        XCTAssertFalse(g.contains("nope"))

        let m = try g.tensor("matrix")
        XCTAssertEqual(m.shape, [2, 3])
        XCTAssertEqual(m.scalars, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try g.tensor("vector").scalars, [0.5, -1, 2, 65504, 0])
        XCTAssertEqual(try g.tensor("conv", expectedShape: [2, 3, 1, 2]).scalars, (0..<12).map(Float.init))

        let wm = try g.weightMatrix("matrix")
        XCTAssertEqual([wm.rows, wm.cols], [2, 3])
        XCTAssertEqual(wm.type, .f32)
        XCTAssertEqual((0..<6).map { wm.data.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }, [1, 2, 3, 4, 5, 6])
    }

    func testVersion3RoundTripsEveryValueTypeAndTensor() throws {
        try checkRoundTrip(version: 3, alignment: nil)
    }

    func testVersion2RoundTripsEveryValueTypeAndTensor() throws {
        try checkRoundTrip(version: 2, alignment: nil)
    }

    func testCustomAlignmentIsHonoured() throws {
        try checkRoundTrip(version: 3, alignment: 64)
        try checkRoundTrip(version: 3, alignment: 128)
    }

    /// With general.alignment 1 the Float32 data lands at odd addresses; the matrix must be copied
    /// to an aligned buffer rather than handed to BLAS misaligned.
    func testAlignmentOneGivesMisalignedDataThatStillReads() throws {
        var w = GGUFWriter()
        w.add("general.alignment", .uint32(1))
        w.addRaw("pad", dims: [3], typeCode: GGMLType.f16.rawValue, data: [0, 0, 0, 0, 0, 0x3C])
        w.addF32("m", shape: [2, 2], values: [1.5, -2.5, 3.5, 4.5])
        let path = folder.write(w.encoded(), to: "a1.gguf")
        let g = try GGUFFile(path: path)
        XCTAssertEqual(g.alignment, 1)
        XCTAssertNotEqual(g.tensorInfo("m")!.offset % 4, 0, "the test needs misaligned data")
        XCTAssertEqual(try g.tensor("pad").scalars, [0, 0, 1])
        XCTAssertEqual(try g.tensor("m").scalars, [1.5, -2.5, 3.5, 4.5])
        let wm = try g.weightMatrix("m")
        XCTAssertEqual(Int(bitPattern: wm.data) % 4, 0)
        XCTAssertEqual(wm.data.load(fromByteOffset: 4, as: Float.self), -2.5)
    }

    func testMetadataAccessors() throws {
        let path = folder.write(makeFile().encoded(), to: "acc.gguf")
        let g = try GGUFFile(path: path)
        XCTAssertEqual(g.int("t.uint8"), 200)
        XCTAssertEqual(g.int("t.int64"), Int(Int64.min))
        XCTAssertNil(g.int("t.uint64"), "UInt64.max does not fit Int")
        XCTAssertNil(g.int("t.string"))
        XCTAssertEqual(g.float("t.float32"), 0.15625)
        XCTAssertEqual(g.float("t.int16"), -30000)
        XCTAssertEqual(g.string("t.string"), "héllo, wörld ✓")
        XCTAssertEqual(g.bool("t.bool"), true)
        XCTAssertNil(g.bool("t.uint8"))
        XCTAssertEqual(g.stringArray("t.array.strings"), ["a", "", "Ġ t"])
        XCTAssertNil(g.stringArray("t.array.int32"))
        XCTAssertEqual(g.intArray("t.array.int32"), [1, -2, 3])
        XCTAssertEqual(g.floatArray("t.array.float32"), [0.5, -2])
        XCTAssertEqual(g.array("t.array.arrays")?.compactMap(\.intArray), [[1, 2], [3]])
        XCTAssertEqual(g.stringArray("t.array.empty"), [])
        XCTAssertNil(g.string("missing"))
    }

    func testWeightMatrixFlattensConvolutionsAndRejectsVectors() throws {
        let path = folder.write(makeFile().encoded(), to: "wm.gguf")
        let g = try GGUFFile(path: path)
        let conv = try g.weightMatrix("conv", expectedShape: [2, 3, 1, 2])
        XCTAssertEqual([conv.rows, conv.cols], [2, 6])
        XCTAssertEqual(conv.row(1).load(as: Float.self), 6)
        assertWeightIOError(try g.weightMatrix("vector"), file: path, mentions: "not a matrix")
        assertWeightIOError(try g.weightMatrix("conv", expectedShape: [2, 6]), file: path, mentions: "expected [2, 6]")
        assertWeightIOError(try g.tensor("matrix", expectedShape: [3, 2]), file: path, mentions: "'matrix'")
        assertWeightIOError(try g.tensor("absent"), file: path, mentions: "'absent' not found")
        assertWeightIOError(try g.weightMatrix("absent"), file: path, mentions: "'absent' not found")
        assertWeightIOError(try g.bytes(of: "absent"), file: path, mentions: "'absent' not found")
        XCTAssertEqual(try g.bytes(of: "matrix").count, 24)
    }

    /// Every GGML type reads as a matrix when the kernels can compute with it, and is refused with
    /// its name otherwise: the loader follows `isComputable` as kernels are added.
    func testEveryGGMLTypeIsEitherAMatrixOrRefusedByName() throws {
        var w = GGUFWriter()
        for type in GGMLType.allCases {
            let data = [UInt8](repeating: 0, count: 2 * type.blockBytes)
            w.addRaw("w.\(type)", dims: [UInt64(type.blockSize), 2], typeCode: type.rawValue, data: data)
        }
        let path = folder.write(w.encoded(), to: "types.gguf")
        let g = try GGUFFile(path: path)
        for type in GGMLType.allCases {
            let name = "w.\(type)"
            XCTAssertEqual(g.type(of: name), type)
            XCTAssertEqual(g.tensorInfo(name)?.byteCount, 2 * type.blockBytes)
            if type.isComputable {
                let m = try g.weightMatrix(name)
                XCTAssertEqual([m.rows, m.cols, m.rowBytes], [2, type.blockSize, type.blockBytes])
                XCTAssertEqual(try g.tensor(name).scalars, [Float](repeating: 0, count: 2 * type.blockSize))
            } else {
                assertWeightIOError(try g.weightMatrix(name), file: path, mentions: "type \(type)")
                assertWeightIOError(try g.tensor(name), file: path, mentions: "'\(name)'")
            }
        }
    }

    func testFileWithoutTensorsOpens() throws {
        var w = GGUFWriter()
        w.add("general.name", .string("empty"))
        let g = try GGUFFile(path: folder.write(w.encoded(), to: "none.gguf"))
        XCTAssertEqual(g.tensorNames, [])
        XCTAssertEqual(g.string("general.name"), "empty")
    }

    /// Dequantized values may differ from gguf-py's NumPy in the last bit where a kernel fuses d·q + m.
    static let dequantizedTolerance: Float = 1e-6

    func assertEqual(_ found: [Float], _ expected: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(found.count, expected.count, file: file, line: line)
        for (f, e) in zip(found, expected) {
            XCTAssertEqual(f, e, accuracy: GGUFReaderTests.dequantizedTolerance, "found \(found), expected \(expected)", file: file, line: line)
        }
    }

    // MARK: The default model

    static let smolLM2Path = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    static let firstAttnQBlock: [UInt8] = [15, 48, 216, 185, 69, 135, 101, 64, 111, 101, 22, 75, 103, 118, 100, 80, 34, 103, 101, 90]

    /// Expected values read with gguf-py 0.19.0:
    /// `r = gguf.GGUFReader("models/SmolLM2-135M-Instruct.Q4_1.gguf")`; `len(r.tensors)`,
    /// `r.fields[k].contents()`, `t.data[:4]`, `np.sum(t.data.astype(np.float64))`, `t.data_offset`, `t.n_bytes`,
    /// and for the quantized tensor `t.data.reshape(-1)[:20]` (raw bytes).
    func testSmolLM2MatchesGGUFPy() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent(GGUFReaderTests.smolLM2Path).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("\(GGUFReaderTests.smolLM2Path) is absent: run scripts/setup.sh to fetch the default model")
        }
        let g = try GGUFFile(path: path)
        XCTAssertEqual(g.version, 3)
        XCTAssertEqual(g.alignment, 32)
        XCTAssertEqual(g.metadata.count, 33)
        XCTAssertEqual(g.tensorInfos.count, 272)
        XCTAssertEqual(g.dataOffset, 1_785_664)
        XCTAssertEqual(g.metadataKeys.first, "general.architecture")
        XCTAssertEqual(g.architecture, "llama")
        XCTAssertEqual(g.string("general.name"), "Smollm2 135M 8k Lc100K Mix1 Ep2")
        XCTAssertEqual(g.stringArray("general.languages"), ["en"])
        XCTAssertEqual(g.int("llama.block_count"), 30)
        XCTAssertEqual(g.int("llama.context_length"), 8192)
        XCTAssertEqual(g.int("llama.embedding_length"), 576)
        XCTAssertEqual(g.int("llama.feed_forward_length"), 1536)
        XCTAssertEqual(g.int("llama.attention.head_count"), 9)
        XCTAssertEqual(g.int("llama.attention.head_count_kv"), 3)
        XCTAssertEqual(g.int("llama.vocab_size"), 49152)
        XCTAssertEqual(g.float("llama.rope.freq_base"), 100000)
        XCTAssertEqual(g.metadata["llama.attention.layer_norm_rms_epsilon"], .float32(1e-5))
        XCTAssertEqual(g.bool("tokenizer.ggml.add_bos_token"), false)
        XCTAssertEqual(g.string("tokenizer.ggml.model"), "gpt2")
        XCTAssertEqual(g.int("tokenizer.ggml.eos_token_id"), 2)
        let tokens = try XCTUnwrap(g.stringArray("tokenizer.ggml.tokens"))
        XCTAssertEqual(tokens.count, 49152)
        XCTAssertEqual(Array(tokens.prefix(3)), ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        XCTAssertEqual(tokens.last, "ectable")
        let merges = try XCTUnwrap(g.stringArray("tokenizer.ggml.merges"))
        XCTAssertEqual(merges.count, 48900)
        XCTAssertEqual(merges.first, "Ġ t")
        XCTAssertEqual(g.intArray("tokenizer.ggml.token_type")?.prefix(3), [3, 3, 3])
        XCTAssertTrue(g.string("tokenizer.chat_template")?.contains("<|im_start|>") ?? false)

        XCTAssertEqual(g.tensorNames.first, "token_embd.weight")
        XCTAssertEqual(g.tensorNames.last, "output_norm.weight")
        XCTAssertFalse(g.contains("output.weight"), "SmolLM2 ties the output to token_embd")
        XCTAssertEqual(g.shape(of: "token_embd.weight"), [49152, 576])
        XCTAssertEqual(g.type(of: "token_embd.weight"), .q8_0)
        XCTAssertEqual(g.shape(of: "blk.0.ffn_down.weight"), [576, 1536])
        let q = try XCTUnwrap(g.tensorInfo("blk.0.attn_q.weight"))
        XCTAssertEqual(q.type, .q4_1)
        XCTAssertEqual(q.dimensions, [576, 576])
        XCTAssertEqual(q.offset, 33_806_656)
        XCTAssertEqual(q.byteCount, 207_360)
        // The first Q4_1 block of blk.0.attn_q.weight: gguf-py's `t.data[0, :20]` (f16 d, f16 m, 16 bytes qs).
        XCTAssertEqual(try g.bytes(of: "blk.0.attn_q.weight").count, 207_360)
        XCTAssertEqual(Array(try g.bytes(of: "blk.0.attn_q.weight").prefix(20)), GGUFReaderTests.firstAttnQBlock)
        XCTAssertEqual(Dictionary(grouping: g.tensorInfos, by: \.type).mapValues(\.count), [.q4_1: 210, .f32: 61, .q8_0: 1])

        let norm = try g.tensor("blk.0.attn_norm.weight", expectedShape: [576])
        XCTAssertEqual(Array(norm.scalars.prefix(4)), [0.01397705078125, 0.0238037109375, -0.019775390625, -0.0302734375])
        XCTAssertEqual(norm.scalars.reduce(0.0) { $0 + Double($1) }, 0.6129436492919922, accuracy: 1e-9)
        let outputNorm = try g.tensor("output_norm.weight")
        XCTAssertEqual(Array(outputNorm.scalars.prefix(4)), [1.7578125, 1.8203125, 1.78125, 1.6015625])
        XCTAssertEqual(outputNorm.scalars.reduce(0.0) { $0 + Double($1) }, 1038.33203125, accuracy: 1e-6)

        // Quantized rows, widened by the tensor core's kernels from where the loader points:
        // gguf-py's `gguf.quants.dequantize(t.data, t.tensor_type)` rows.
        if GGMLType.q4_1.isComputable && GGMLType.q8_0.isComputable {
            let wq = try g.weightMatrix("blk.0.attn_q.weight")
            XCTAssertEqual([wq.rows, wq.cols], [576, 576])
            let q = try g.tensor("blk.0.attn_q.weight")
            assertEqual(Array(q.scalars.prefix(4)), [-0.0963134765625, 0.1573486328125, -0.0963134765625, -0.73046875])
            assertEqual(Array(q.scalars.suffix(3)), [-0.096832275390625, -0.14984130859375, -0.255859375])
            let embedding = try g.weightMatrix("token_embd.weight", expectedShape: [49152, 576])
            var row = [Float](repeating: 0, count: 576)
            dequantizeRow(.q8_0, embedding.row(0), &row, count: 576)
            assertEqual(Array(row.prefix(4)), [-0.10654449462890625, 0.032978057861328125, 0.048198699951171875, -0.022830963134765625])
            dequantizeRow(.q8_0, embedding.row(49151), &row, count: 576)
            assertEqual(Array(row.suffix(4)), [0.07819175720214844, 0.12858200073242188, -0.11989402770996094, -0.0417022705078125])
            dequantizeRow(.q8_0, embedding.row(1), &row, count: 576)
            XCTAssertEqual(row.reduce(0.0) { $0 + Double($1) }, 0.35922718048095703, accuracy: 1e-5)
        } else {
            assertWeightIOError(try g.weightMatrix("blk.0.attn_q.weight"), file: path, mentions: "Q4_1")
        }
        XCTAssertTrue(try openWeights(path: path) is GGUFFile)
    }
}
