import Foundation
import Tensors
import WeightIO
import XCTest

final class SafetensorsTests: XCTestCase {
    lazy var folder = makeTemporaryFolder()

    // Values exact in each dtype, so reading back must give them bit for bit.
    static let f32Values: [Float] = [1, -2.5, 3.25e-7, 1e30, -0.0, .greatestFiniteMagnitude]
    static let f16Values: [Float] = [0.5, -1.5, 65504, 6.1035156e-05, 0.099975586, -0.0]
    static let bf16Values: [Float] = [1, -3.5, Float(bitPattern: 0x7F7F_0000), 0.0078125, .leastNormalMagnitude, 256]

    func makeWriter() -> SafetensorsWriter {
        var w = SafetensorsWriter()
        w.metadata = ["format": "pt", "note": "made by SafetensorsTests"]
        w.addF32("a.f32", shape: [2, 3], values: SafetensorsTests.f32Values)
        w.addF16("b.f16", shape: [3, 2], values: SafetensorsTests.f16Values)
        w.addBF16("c.bf16", shape: [6], values: SafetensorsTests.bf16Values)
        w.add("position_ids", dtype: "I64", shape: [1, 2], data: bytesOf(Int64(0)) + bytesOf(Int64(1)))
        w.addF16("conv.weight", shape: [2, 1, 2, 2], values: (0..<8).map(Float.init))
        return w
    }

    func testF32F16BF16ReadBackExactly() throws {
        let path = folder.write(makeWriter().encoded(), to: "model.safetensors")
        let s = try SafetensorsFile(path: path)
        XCTAssertEqual(s.metadata, ["format": "pt", "note": "made by SafetensorsTests"])
        XCTAssertEqual(s.tensorNames, ["a.f32", "b.f16", "c.bf16", "position_ids", "conv.weight"])
        XCTAssertEqual(s.shape(of: "b.f16"), [3, 2])
        XCTAssertEqual(s.type(of: "a.f32"), .f32)
        XCTAssertEqual(s.type(of: "b.f16"), .f16)
        XCTAssertEqual(s.type(of: "c.bf16"), .bf16)
        XCTAssertNil(s.type(of: "position_ids"))
        XCTAssertEqual(s.dtype(of: "position_ids"), "I64")

        let a = try s.tensor("a.f32", expectedShape: [2, 3])
        XCTAssertEqual(a.scalars.map(\.bitPattern), SafetensorsTests.f32Values.map(\.bitPattern))
        XCTAssertEqual(try s.tensor("b.f16").scalars.map(\.bitPattern), SafetensorsTests.f16Values.map(\.bitPattern))
        XCTAssertEqual(try s.tensor("c.bf16").scalars.map(\.bitPattern), SafetensorsTests.bf16Values.map(\.bitPattern))
    }

    /// fp16 weights stay fp16: the matrix points into the mapping, two bytes per weight.
    func testWeightMatrixKeepsHalfPrecisionInPlace() throws {
        let path = folder.write(makeWriter().encoded(), to: "model.safetensors")
        let s = try SafetensorsFile(path: path)
        let m = try s.weightMatrix("b.f16")
        XCTAssertEqual(m.type, .f16)
        XCTAssertEqual([m.rows, m.cols, m.rowBytes], [3, 2, 4])
        XCTAssertTrue(m.owner === s.file, "the matrix should point into the mapped file")
        let second = Float(Float16(bitPattern: m.row(1).loadUnaligned(as: UInt16.self)))
        XCTAssertEqual(second, 65504)
        let conv = try s.weightMatrix("conv.weight")
        XCTAssertEqual([conv.rows, conv.cols], [2, 4])
        assertWeightIOError(try s.weightMatrix("c.bf16"), file: path, mentions: "not a matrix")
    }

    func testOtherDtypesAreListedButRefusedByName() throws {
        let path = folder.write(makeWriter().encoded(), to: "model.safetensors")
        let s = try SafetensorsFile(path: path)
        XCTAssertTrue(s.contains("position_ids"))
        assertWeightIOError(try s.tensor("position_ids"), file: path, mentions: "'position_ids'")
        assertWeightIOError(try s.weightMatrix("position_ids"), file: path, mentions: "type I64")
        assertWeightIOError(try s.tensor("a.f32", expectedShape: [3, 2]), file: path, mentions: "expected [3, 2]")
        assertWeightIOError(try s.tensor("missing"), file: path, mentions: "'missing' not found")
    }

    /// Names come in data order whatever the JSON order, and an unpadded header (data at an odd
    /// offset) still reads, with the matrix copied to aligned memory.
    func testUnpaddedHeaderAndJSONOrder() throws {
        var w = SafetensorsWriter()
        w.padHeader = false
        w.addF32("second", shape: [2, 2], values: [1, 2, 3, 4])
        w.addF32("first", shape: [1, 1], values: [9])
        var bytes = w.encoded(dataOrder: [1, 0])
        if (bytes.count - 20) % 4 == 0 {           // 20 data bytes: make the data start misaligned
            w.entries[0].name = "second_"
            bytes = w.encoded(dataOrder: [1, 0])
        }
        let path = folder.write(bytes, to: "odd.safetensors")
        let s = try SafetensorsFile(path: path)
        XCTAssertNotEqual(s.dataOffset % 4, 0, "the test needs misaligned data")
        let second = w.entries[0].name
        XCTAssertEqual(s.tensorNames, ["first", second])
        XCTAssertEqual(try s.tensor(second).scalars, [1, 2, 3, 4])
        let m = try s.weightMatrix(second)
        XCTAssertEqual(Int(bitPattern: m.data) % 4, 0)
        XCTAssertEqual(m.data.load(fromByteOffset: 12, as: Float.self), 4)
    }

    func testHeaderWithoutMetadataOrTensors() throws {
        var w = SafetensorsWriter()
        w.headerOverride = "{}"
        let s = try SafetensorsFile(path: folder.write(w.encoded(), to: "empty.safetensors"))
        XCTAssertEqual(s.tensorNames, [])
        XCTAssertEqual(s.metadata, [:])
    }

    // MARK: Sharded checkpoints and folders

    @discardableResult
    func writeShardedFolder(_ name: String, indexName: String = "model.safetensors.index.json",
                            weightMap: [String: String]? = nil) -> String {
        var one = SafetensorsWriter()
        one.addF32("layers.0.w", shape: [2, 2], values: [1, 2, 3, 4])
        one.addF32("embed", shape: [3], values: [5, 6, 7])
        var two = SafetensorsWriter()
        two.addF16("layers.1.w", shape: [2, 2], values: [-1, -2, -3, -4])
        two.addF32("norm", shape: [2], values: [8, 9])
        folder.write(one.encoded(), to: "\(name)/model-00001-of-00002.safetensors")
        folder.write(two.encoded(), to: "\(name)/model-00002-of-00002.safetensors")
        let map = weightMap ?? [
            "layers.0.w": "model-00001-of-00002.safetensors", "embed": "model-00001-of-00002.safetensors",
            "layers.1.w": "model-00002-of-00002.safetensors", "norm": "model-00002-of-00002.safetensors",
        ]
        let entries = map.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ")
        let json = "{\"metadata\": {\"total_size\": 52}, \"weight_map\": {\(entries)}}"
        return folder.write(Array(json.utf8), to: "\(name)/\(indexName)")
    }

    func testShardedIndexReadsEveryShard() throws {
        let path = writeShardedFolder("sharded")
        let index = try SafetensorsIndex(path: path)
        XCTAssertEqual(index.shards.count, 2)
        XCTAssertEqual(index.tensorNames, ["layers.0.w", "embed", "layers.1.w", "norm"])
        XCTAssertEqual(index.shape(of: "layers.1.w"), [2, 2])
        XCTAssertEqual(index.type(of: "layers.1.w"), .f16)
        XCTAssertEqual(try index.tensor("embed").scalars, [5, 6, 7])
        XCTAssertEqual(try index.tensor("layers.1.w", expectedShape: [2, 2]).scalars, [-1, -2, -3, -4])
        XCTAssertEqual(try index.weightMatrix("layers.0.w").rows, 2)
        assertWeightIOError(try index.tensor("absent"), file: path, mentions: "'absent' not found")

        let opened = try openWeights(path: folder.path("sharded"))
        XCTAssertTrue(opened is SafetensorsIndex)
        XCTAssertEqual(opened.tensorNames, index.tensorNames)

        // transformers' variant spelling of the index, found in a folder.
        writeShardedFolder("variant", indexName: "model.safetensors.index.fp16.json")
        XCTAssertEqual(try openWeights(path: folder.path("variant")).path, folder.path("variant/model.safetensors.index.fp16.json"))
    }

    func testIndexNamingATensorItsShardLacksIsAnError() throws {
        let path = writeShardedFolder("badmap", weightMap: ["ghost": "model-00001-of-00002.safetensors"])
        assertWeightIOError(try SafetensorsIndex(path: path), file: path, mentions: "'ghost'")
    }

    func testIndexNamingAShardOutsideItsFolderIsAnError() throws {
        let path = writeShardedFolder("escape", weightMap: ["embed": "../escape/model-00001-of-00002.safetensors"])
        assertWeightIOError(try SafetensorsIndex(path: path), file: path, mentions: "not a file in the index's folder")
    }

    func testIndexWithMissingShardNamesTheShard() throws {
        let path = writeShardedFolder("gone", weightMap: ["embed": "model-00009-of-00009.safetensors"])
        assertWeightIOError(try SafetensorsIndex(path: path), file: "model-00009-of-00009.safetensors", mentions: "cannot open")
    }

    func testIndexWithInvalidJSON() throws {
        let path = folder.write(Array("{\"weight_map\": [1, 2".utf8), to: "broken/model.safetensors.index.json")
        assertWeightIOError(try SafetensorsIndex(path: path), file: path, mentions: "invalid safetensors index")
        let noMap = folder.write(Array("{\"metadata\": {}}".utf8), to: "nomap/model.safetensors.index.json")
        assertWeightIOError(try SafetensorsIndex(path: noMap), file: noMap, mentions: "weight_map")
    }

    /// The diffusers layout: unet/diffusion_pytorch_model.safetensors, and the fp16 variant files.
    func testOpenWeightsFindsDiffusersFilesAndVariants() throws {
        var full = SafetensorsWriter()
        full.addF32("conv_in.weight", shape: [1, 1], values: [1])
        var half = SafetensorsWriter()
        half.addF16("conv_in.weight", shape: [1, 1], values: [1])
        folder.write(full.encoded(), to: "sd/unet/diffusion_pytorch_model.safetensors")
        folder.write(half.encoded(), to: "sd/unet/diffusion_pytorch_model.fp16.safetensors")
        folder.write(half.encoded(), to: "sd/vae/diffusion_pytorch_model.fp16.safetensors")
        folder.write(half.encoded(), to: "sd/text_encoder/model.fp16.safetensors")

        XCTAssertEqual(try openWeights(path: folder.path("sd/unet")).type(of: "conv_in.weight"), .f32)
        XCTAssertEqual(try openWeights(path: folder.path("sd/unet"), variant: "fp16").type(of: "conv_in.weight"), .f16)
        XCTAssertEqual(try openWeights(path: folder.path("sd/vae")).type(of: "conv_in.weight"), .f16)
        XCTAssertEqual(try openWeights(path: folder.path("sd/text_encoder")).path,
                       folder.path("sd/text_encoder/model.fp16.safetensors"))
        let empty = folder.path("sd/empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        assertWeightIOError(try openWeights(path: empty), file: empty, mentions: "no weights found")
        assertWeightIOError(try openWeights(path: folder.path("nowhere")), file: folder.path("nowhere"), mentions: "no such file")
    }

    func testOpenWeightsRecognisesFilesByContent() throws {
        let st = folder.write(makeWriter().encoded(), to: "weights.bin")
        XCTAssertTrue(try openWeights(path: st) is SafetensorsFile)
        var g = GGUFWriter()
        g.addF32("x", shape: [1], values: [1])
        let gg = folder.write(g.encoded(), to: "weights.dat")
        XCTAssertTrue(try openWeights(path: gg) is GGUFFile)
        let other = folder.write(Array("hello, not weights".utf8), to: "weights.txt")
        assertWeightIOError(try openWeights(path: other), file: other, mentions: "neither a GGUF file nor a safetensors file")
        folder.write(g.encoded(), to: "gguf-folder/model-q4.gguf")
        XCTAssertTrue(try openWeights(path: folder.path("gguf-folder")) is GGUFFile)
    }
}
