import XCTest
import Tensors
import WeightIO
@testable import Diffusion

/// CLIP's vision tower, image processor, pooled text output and CLIPModel scorer against transformers 5.24.0.
/// Fixtures: Fixtures/clip_vision/, made by tools/make_clip_vision_fixtures.py (torch 2.15.0, transformers 5.24.0,
/// pillow 13.0.0, numpy 2.4.6): tiny-clip/ (a random CLIPModel in openai/clip-vit-large-patch14's folder layout,
/// fp16 weights), tiny-clip-reference.*, processor.* (CLIPImageProcessorPil on a 47×31 image) and easel-mini/
/// (four dataset images and transformers' embeddings from the repository's easel-mini/).
final class CLIPVisionTests: XCTestCase {
    /// Measured max differences (tools/make_clip_vision_fixtures.py, this machine) are noted per tolerance.
    enum CLIPTolerance {
        /// Pillow's resampling is integer arithmetic, reproduced exactly; (x·scale − mean) / std is the same
        /// float32 arithmetic as numpy's. Measured: 0.
        static let pixel: Float = 1e-6
        /// The tiny towers in float32 from the same fp16 weights, sums in another order.
        /// Measured: vision last_hidden_state 2.1e-6, pooled and embeds ≤ 9.5e-7, text ≤ 8.3e-7.
        static let tinyModel: Float = 2e-5
        /// Cosines of embeddings. Measured: tiny 1.0e-7, easel-mini 1.8e-7.
        static let cosine: Float = 2e-6
        /// easel-mini (4 layers, width 64) in float32 from its fp16 weights. Measured: 9.5e-7.
        static let easelMiniEmbedding: Float = 2e-5
    }

    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    var tinyCLIP: URL { fixtureURL("clip_vision/tiny-clip") }

    struct TinyReference: Decodable {
        let captions: [String]
        let input_ids: [[Int]]
        let legacy_input_ids: [Int]
        let logit_scale: Float
    }

    struct ProcessorCases: Decodable {
        struct Case: Decodable { let name: String; let shape: [Int] }
        let image: String
        let cases: [Case]
    }

    struct EaselMiniReference: Decodable {
        let images: [String]
        let captions: [String]
        let image_embeds: [[Float]]
        let text_embeds: [[Float]]
        let cosine: [[Float]]
    }

    func tinyOutputs() throws -> SafetensorsFile {
        try SafetensorsFile(path: fixtureURL("clip_vision/tiny-clip-reference.safetensors").path)
    }

    func image(_ path: String) throws -> RGBImage { try PNGCodec.decode(contentsOf: fixtureURL(path)) }

    func row(_ t: Tensor, _ i: Int) -> [Float] {
        let n = t.shape.last!
        return Array(t.scalars[(i * n)..<((i + 1) * n)])
    }

    func temporaryFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("easel-clip-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    // MARK: CLIPImageProcessor

    /// Each case's preprocessor_config (written as transformers would read it) on the 47×31 image, against
    /// CLIPImageProcessorPil: bicubic up- and down-sampling (antialiased), bilinear, a non-square crop, a crop
    /// larger than the image (zero padding), a resize to the size the image already has, an exact size.
    func testImageProcessorMatchesTransformersOnANonSquareImage() throws {
        let cases = try loadJSON(ProcessorCases.self, "clip_vision/processor.json")
        let raw = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: fixtureURL("clip_vision/processor.json")))
                                as? [String: Any])
        let configs = try XCTUnwrap(raw["cases"] as? [[String: Any]]).map { $0["config"]! }
        let expected = try SafetensorsFile(path: fixtureURL("clip_vision/processor.safetensors").path)
        let input = try image("clip_vision/\(cases.image)")
        XCTAssertEqual([input.width, input.height], [47, 31])
        let dir = try temporaryFolder()
        XCTAssertEqual(cases.cases.count, 7)
        for (c, config) in zip(cases.cases, configs) {
            let url = dir.appendingPathComponent("\(c.name).json")
            try JSONSerialization.data(withJSONObject: config).write(to: url)
            let processor = try CLIPImageProcessor(contentsOf: url)
            let pixels = try processor(input)
            XCTAssertEqual(pixels.shape, c.shape, c.name)
            assertClose(pixels.scalars, try expected.tensor(c.name).scalars, tol: CLIPTolerance.pixel,
                        label: "pixel_values, \(c.name)")
        }
    }

    /// openai/clip-vit-large-patch14's file spells size and crop_size as ints; they mean the shortest edge and
    /// a square crop.
    func testLegacyIntSizesMeanShortestEdgeAndSquareCrop() throws {
        let legacy = try CLIPImageProcessor(directory: tinyCLIP)
        var expected = CLIPImageProcessor()
        expected.size = .shortestEdge(32)
        expected.cropHeight = 32
        expected.cropWidth = 32
        XCTAssertEqual(legacy, expected)
    }

    func testMissingPreprocessorConfigGivesCLIPDefaults() throws {
        let p = try CLIPImageProcessor(directory: try temporaryFolder())
        XCTAssertEqual(p.size, .shortestEdge(224))
        XCTAssertEqual(p.resample, .bicubic)
        XCTAssertEqual([p.cropHeight, p.cropWidth], [224, 224])
        XCTAssertEqual(p.imageMean, [0.48145466, 0.4578275, 0.40821073])
        XCTAssertEqual(p.imageStd, [0.26862954, 0.26130258, 0.27577711])
        XCTAssertTrue(p.doResize && p.doCenterCrop && p.doRescale && p.doNormalize)
        XCTAssertEqual(p.rescaleFactor, 1.0 / 255.0)
    }

    func testResizeToTheSameSizeReturnsTheImageUnchanged() throws {
        let input = try image("clip_vision/image-47x31.png")
        XCTAssertEqual(CLIPImageProcessor.resize(input, width: 47, height: 31, filter: .bicubic), input)
        // Only one pass runs when one side keeps its length.
        let wider = CLIPImageProcessor.resize(input, width: 60, height: 31, filter: .bicubic)
        XCTAssertEqual([wider.width, wider.height], [60, 31])
    }

    func testBadPreprocessorConfigsAreClearErrors() throws {
        let dir = try temporaryFolder()
        let cases: [(String, String)] = [
            ("{\"resample\": 1}", "resample"),                                   // Lanczos: not implemented
            ("{\"image_std\": [0.5, 0, 0.5]}", "image_std"),
            ("{\"image_mean\": [0.5, 0.5]}", "image_mean"),
            ("{\"size\": {\"shortest_edge\": 224, \"longest_edge\": 300}}", "longest_edge"),
            ("{\"size\": {\"width\": 3}}", "size"),
            ("{\"size\": -4}", "size"),
            ("{\"crop_size\": 100000}", "crop_size"),
            ("{\"do_resize\": \"yes\"}", "do_resize"),
            ("[1, 2]", "not a JSON object"),
            ("{\"size\": 22", "not a JSON object"),
        ]
        for (i, (text, needle)) in cases.enumerated() {
            let url = dir.appendingPathComponent("p\(i).json")
            try Data(text.utf8).write(to: url)
            XCTAssertThrowsError(try CLIPImageProcessor(contentsOf: url), text) { error in
                XCTAssertTrue("\(error)".contains(needle), "\(text): \(error)")
            }
        }
    }

    func testProcessorRejectsEmptyAndAbsurdImages() throws {
        let p = CLIPImageProcessor()
        XCTAssertThrowsError(try p(RGBImage(width: 0, height: 0, pixels: []))) { error in
            XCTAssertTrue("\(error)".contains("empty"), "\(error)")
        }
        // A 1-pixel-high strip would be resized to 224 × 896000.
        let strip = RGBImage(width: 4000, height: 1, pixels: [UInt8](repeating: 9, count: 12000))
        XCTAssertThrowsError(try p(strip)) { error in XCTAssertTrue("\(error)".contains("limit"), "\(error)") }
        var zeroCrop = p
        zeroCrop.cropHeight = 0
        XCTAssertThrowsError(try zeroCrop(RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 1, count: 12))))
        var twoChannels = p
        twoChannels.imageMean = [0.5, 0.5]
        XCTAssertThrowsError(try twoChannels(RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 1, count: 12))))
    }

    // MARK: The tiny CLIPModel against transformers

    func testVisionTowerMatchesTransformers() throws {
        let clip = try CLIPModel(directory: tinyCLIP)
        let ref = try tinyOutputs()
        let pooled = try ref.tensor("pooled_output"), embeds = try ref.tensor("image_embeds")
        for (i, name) in ["image-47x31.png", "image-20x24.png"].enumerated() {
            let pixels = try clip.imageProcessor(try image("clip_vision/\(name)"))
            XCTAssertEqual(pixels.shape, [3, 32, 32])
            let out = try clip.vision(pixels)
            if i == 0 {
                XCTAssertEqual(out.lastHiddenState.shape, [17, 40])
                assertClose(out.lastHiddenState.scalars, try ref.tensor("last_hidden_state_0").scalars,
                            tol: CLIPTolerance.tinyModel, label: "vision last_hidden_state, \(name)")
            }
            assertClose(out.pooledOutput, row(pooled, i), tol: CLIPTolerance.tinyModel, label: "vision pooler_output, \(name)")
            assertClose(out.imageEmbeds, row(embeds, i), tol: CLIPTolerance.tinyModel, label: "image_embeds, \(name)")
            assertClose(try clip.imageEmbedding(try image("clip_vision/\(name)")), row(embeds, i),
                        tol: CLIPTolerance.tinyModel, label: "imageEmbedding, \(name)")
        }
        XCTAssertEqual(clip.embeddingDimension, 24)
    }

    /// Captions tokenised with truncation (the third is cut to 16 tokens and still ends with <|endoftext|>),
    /// pooled at the end token and projected.
    func testTextEmbedsMatchTransformers() throws {
        let clip = try CLIPModel(directory: tinyCLIP)
        let meta = try loadJSON(TinyReference.self, "clip_vision/tiny-clip-reference.json")
        let ref = try tinyOutputs()
        let pooled = try ref.tensor("text_pooled"), embeds = try ref.tensor("text_embeds")
        XCTAssertEqual(clip.maxTokens, 16)
        for (i, caption) in meta.captions.enumerated() {
            let ids = try clip.inputIds(caption)
            XCTAssertEqual(ids, meta.input_ids[i], caption)
            assertClose(try clip.textModel.pooledOutput(ids), row(pooled, i), tol: CLIPTolerance.tinyModel,
                        label: "text pooler_output, caption \(i)")
            assertClose(try clip.textEmbedding(caption), row(embeds, i), tol: CLIPTolerance.tinyModel,
                        label: "text_embeds, caption \(i)")
        }
    }

    func testSimilarityAndLogitsMatchTransformers() throws {
        let clip = try CLIPModel(directory: tinyCLIP)
        let meta = try loadJSON(TinyReference.self, "clip_vision/tiny-clip-reference.json")
        let ref = try tinyOutputs()
        XCTAssertEqual(clip.logitScale, meta.logit_scale, accuracy: 1e-5)
        var cosines: [Float] = [], logits: [Float] = []
        for name in ["image-47x31.png", "image-20x24.png"] {
            for caption in meta.captions {
                let s = try clip.similarity(try image("clip_vision/\(name)"), caption)
                cosines.append(s)
                logits.append(clip.logitScale * s)
            }
        }
        assertClose(cosines, try ref.tensor("cosine").scalars, tol: CLIPTolerance.cosine, label: "cosine [image, text]")
        assertClose(logits, try ref.tensor("logits_per_image").scalars, tol: CLIPTolerance.cosine * meta.logit_scale,
                    label: "logits_per_image")
    }

    /// eos_token_id 2 (openai/clip-vit-large-patch14's text_config) means: pool at argmax(ids). The ids hold a 2
    /// at position 1, so reading "the first id equal to eos_token_id" would pool there instead of at position 3.
    func testLegacyEOSTokenIdPoolsAtTheLargestId() throws {
        let meta = try loadJSON(TinyReference.self, "clip_vision/tiny-clip-reference.json")
        let config = try decodeConfig(CLIPConfiguration.self, at: tinyCLIP.appendingPathComponent("config.json"))
        XCTAssertEqual(config.textConfig.eosTokenId, 1513)
        var legacy = config.textConfig
        legacy.eosTokenId = 2
        let store = try openWeights(path: tinyCLIP.path)
        let model = try CLIPTextModel(config: legacy, weights: Weights(store, prefix: "text_model."))
        XCTAssertEqual(try model.pooledPosition(meta.legacy_input_ids), 3)
        assertClose(try model.pooledOutput(meta.legacy_input_ids), try tinyOutputs().tensor("legacy_pooled").scalars,
                    tol: CLIPTolerance.tinyModel, label: "pooled output with eos_token_id 2")
        var current = config.textConfig
        current.eosTokenId = 40
        let byId = try CLIPTextModel(config: current, weights: Weights(store, prefix: "text_model."))
        XCTAssertEqual(try byId.pooledPosition(meta.legacy_input_ids), 2)
        XCTAssertThrowsError(try byId.pooledPosition([1512, 7, 9])) { error in
            XCTAssertTrue("\(error)".contains("end-of-text"), "\(error)")
        }
    }

    /// The pooled output is the end token's state, so tokens after it (padding) change nothing.
    func testPaddingAfterTheEndTokenDoesNotChangeTheTextEmbedding() throws {
        let clip = try CLIPModel(directory: tinyCLIP)
        let ids = try clip.inputIds("two green squares")
        let padded = ids + [Int](repeating: clip.tokenizer.padToken, count: clip.maxTokens - ids.count)
        assertClose(try clip.textEmbedding(ids: padded), try clip.textEmbedding(ids: ids), tol: 0, label: "padded vs not")
    }

    // MARK: easel-mini's own CLIP

    var easelMini: URL { Self.repoRoot.appendingPathComponent("easel-mini") }

    func testEaselMiniRanksTheRightCaptionFirstAndMatchesTransformers() throws {
        let clip = try CLIPModel(directory: easelMini)
        XCTAssertEqual(clip.embeddingDimension, 64)
        XCTAssertEqual(clip.maxTokens, 32)
        let ref = try loadJSON(EaselMiniReference.self, "clip_vision/easel-mini/reference.json")
        let images = try ref.images.map { try image("clip_vision/easel-mini/\($0)") }
        let texts = try ref.captions.map { try clip.textEmbedding($0) }
        for (i, img) in images.enumerated() {
            XCTAssertEqual([img.width, img.height], [64, 64])
            let e = try clip.imageEmbedding(img)
            assertClose(e, ref.image_embeds[i], tol: CLIPTolerance.easelMiniEmbedding, label: "easel-mini image_embeds \(i)")
            assertClose(texts[i], ref.text_embeds[i], tol: CLIPTolerance.easelMiniEmbedding, label: "easel-mini text_embeds \(i)")
            let row = try texts.map { try CLIPModel.cosineSimilarity(e, $0) }
            assertClose(row, ref.cosine[i], tol: CLIPTolerance.cosine, label: "easel-mini cosine row \(i)")
            XCTAssertEqual(row.firstIndex(of: row.max()!), i, "image \(i) should match \"\(ref.captions[i])\": \(row)")
            XCTAssertEqual(try clip.similarity(img, ref.captions[i]), row[i], accuracy: 1e-6)
        }
    }

    /// easel-mini's CLIP was trained on x / 127.5 − 1 of 64×64 images (training/common.py); its
    /// preprocessor_config.json says the same, and a larger image is resized down to 64.
    func testEaselMiniPreprocessingIsTheTrainingNormalisation() throws {
        let clip = try CLIPModel(directory: easelMini)
        let img = try image("clip_vision/easel-mini/val-0.png")
        let pixels = try clip.imageProcessor(img)
        XCTAssertEqual(pixels.shape, [3, 64, 64])
        var trained = [Float](repeating: 0, count: 3 * 64 * 64)
        for y in 0..<64 { for x in 0..<64 { for c in 0..<3 {
            trained[c * 4096 + y * 64 + x] = Float(img.pixels[(y * 64 + x) * 3 + c]) / 127.5 - 1
        } } }
        assertClose(pixels.scalars, trained, tol: CLIPTolerance.pixel, label: "easel-mini pixels vs training")
        let big = CLIPImageProcessor.resize(img, width: 150, height: 128, filter: .bicubic)
        XCTAssertEqual(try clip.imageProcessor(big).shape, [3, 64, 64])
        XCTAssertEqual(try clip.imageEmbedding(big).count, 64)
    }

    /// openai/clip-vit-large-patch14, when a user brings it (EASEL_CLIP_VIT_L14=/path/to/the/folder): solid colours
    /// are the easiest zero-shot task, so each image must pick its own colour's caption.
    func testUserCLIPViTL14RanksSolidColours() throws {
        guard let path = ProcessInfo.processInfo.environment["EASEL_CLIP_VIT_L14"] else {
            throw XCTSkip("set EASEL_CLIP_VIT_L14 to an openai/clip-vit-large-patch14 folder to run this test")
        }
        let clip = try CLIPModel(directory: URL(fileURLWithPath: path))
        XCTAssertEqual(clip.embeddingDimension, 768)
        XCTAssertEqual(clip.vision.config.imageSize, 224)
        XCTAssertEqual(clip.textModel.config.eosTokenId, 2, "openai's config pools at argmax(ids)")
        let colours: [(String, [UInt8])] = [("red", [220, 20, 20]), ("green", [20, 200, 40]), ("blue", [20, 40, 220])]
        let captions = colours.map { "a plain \($0.0) square" }
        for (i, (_, rgb)) in colours.enumerated() {
            let image = RGBImage(width: 300, height: 200, pixels: Array([[UInt8]](repeating: rgb, count: 300 * 200).joined()))
            let sims = try captions.map { try clip.similarity(image, $0) }
            XCTAssertEqual(sims.firstIndex(of: sims.max()!), i, "\(captions[i]): \(sims)")
        }
    }

    // MARK: Bad input

    func testBadTextIsAClearError() throws {
        let clip = try CLIPModel(directory: tinyCLIP)
        for text in ["", "   \n\t"] {
            XCTAssertThrowsError(try clip.textEmbedding(text)) { error in
                XCTAssertEqual("\(error)", "CLIP text is empty")
            }
        }
        // A huge caption is cut to its first words before tokenising, with the same ids as the whole text.
        let long = String(repeating: "red circle ", count: 200_000)
        XCTAssertEqual(try clip.inputIds(long), try clip.inputIds(String(long.prefix(400))))
        XCTAssertEqual(try clip.inputIds(long).count, 16)
        XCTAssertThrowsError(try clip.inputIds(String(repeating: "a", count: 20_000))) { error in
            XCTAssertTrue("\(error)".contains("at most"), "\(error)")
        }
        XCTAssertThrowsError(try clip.textEmbedding(ids: [1512, 5, 6])) { error in
            XCTAssertTrue("\(error)".contains("end-of-text"), "\(error)")
        }
        XCTAssertThrowsError(try clip.textEmbedding(ids: [1512, 99_999, 1513])) { error in
            XCTAssertTrue("\(error)".contains("99999"), "\(error)")
        }
    }

    func testImagesOfAnySizeArePreprocessedAndWrongPixelShapesRejected() throws {
        let clip = try CLIPModel(directory: tinyCLIP)
        let odd = RGBImage(width: 101, height: 7, pixels: (0..<(101 * 7 * 3)).map { UInt8($0 % 251) })
        XCTAssertEqual(try clip.imageEmbedding(odd).count, 24)
        XCTAssertThrowsError(try clip.vision(Tensor(shape: [3, 31, 32]))) { error in
            XCTAssertTrue("\(error)".contains("[3, 32, 32]"), "\(error)")
        }
        XCTAssertThrowsError(try clip.vision(Tensor(shape: [2, 3, 32, 32])))
        XCTAssertThrowsError(try clip.imageEmbedding(RGBImage(width: 0, height: 5, pixels: [])))
        XCTAssertThrowsError(try CLIPModel.cosineSimilarity([1, 2], [1, 2, 3]))
        XCTAssertThrowsError(try CLIPModel.cosineSimilarity([0, 0], [1, 2]))
    }

    /// A copy of tiny-clip/ with config.json edited (and files removed).
    func tinyCopy(removing: [String] = [], edit: (inout [String: Any]) -> Void = { _ in }) throws -> URL {
        let dir = try temporaryFolder().appendingPathComponent("clip")
        try FileManager.default.copyItem(at: tinyCLIP, to: dir)
        for name in removing { try FileManager.default.removeItem(at: dir.appendingPathComponent(name)) }
        let url = dir.appendingPathComponent("config.json")
        var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: url)
        return dir
    }

    func editVision(_ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
        { config in
            var v = config["vision_config"] as! [String: Any]
            v[key] = value
            config["vision_config"] = v
        }
    }

    func testBadCLIPFoldersAreClearErrors() throws {
        func check(_ dir: URL, _ needles: [String], line: UInt = #line) {
            XCTAssertThrowsError(try CLIPModel(directory: dir), line: line) { error in
                for n in needles { XCTAssertTrue("\(error)".contains(n), "\(error) lacks \(n)", line: line) }
            }
        }
        check(try temporaryFolder(), ["not a CLIP folder"])
        check(try tinyCopy(removing: ["model.safetensors"]), ["no weights found"])
        check(try tinyCopy(removing: ["vocab.json"]), ["no CLIP tokenizer"])
        check(try tinyCopy(edit: editVision("hidden_size", 48)), ["vision_model.embeddings.class_embedding", "[48]", "[40]"])
        check(try tinyCopy(edit: editVision("patch_size", 16)), ["patch_embedding", "[40, 3, 16, 16]"])
        check(try tinyCopy(edit: editVision("num_attention_heads", 3)), ["CLIPVisionModel", "num_attention_heads"])
        check(try tinyCopy(edit: editVision("hidden_act", "relu")), ["hidden_act = relu"])
        check(try tinyCopy(edit: editVision("image_size", 1 << 40)), ["image_size"])
        check(try tinyCopy(edit: editVision("num_hidden_layers", 3)), ["vision_model.encoder.layers.2"])
        check(try tinyCopy(edit: editVision("image_size", "big")), ["config.json", "image_size"])
        check(try tinyCopy { $0["projection_dim"] = 32 }, ["visual_projection.weight", "[32, 40]", "[24, 40]"])
        let garbage = try tinyCopy()
        try Data("{ not json".utf8).write(to: garbage.appendingPathComponent("config.json"))
        check(garbage, ["config.json", "not a JSON object"])
    }

    /// A minimal safetensors file of float32 tensors.
    func writeSafetensors(_ tensors: [(String, [Int])], to url: URL) throws {
        var header: [String: Any] = [:], offset = 0
        for (name, shape) in tensors {
            let bytes = shape.reduce(1, *) * 4
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header)
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        data.append(Data(count: offset))
        try data.write(to: url)
    }

    /// easel-mini's layout: the text projection file is required and checked against both towers' widths.
    func testBadEaselMiniFoldersAreClearErrors() throws {
        let dir = try temporaryFolder()
        for part in ["text_encoder", "tokenizer"] {
            try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent(part),
                                                       withDestinationURL: easelMini.appendingPathComponent(part))
        }
        let vision = dir.appendingPathComponent("vision_model")
        try FileManager.default.copyItem(at: easelMini.appendingPathComponent("vision_model"), to: vision)
        XCTAssertEqual(try CLIPModel(directory: dir).embeddingDimension, 64)
        let extra = vision.appendingPathComponent("text_projection.safetensors")
        try writeSafetensors([("text_projection.weight", [64, 32]), ("logit_scale", [1])], to: extra)
        XCTAssertThrowsError(try CLIPModel(directory: dir)) { error in
            XCTAssertTrue("\(error)".contains("text_projection.weight") && "\(error)".contains("[64, 32]"), "\(error)")
        }
        try writeSafetensors([("text_projection.weight", [64, 64]), ("logit_scale", [2])], to: extra)
        XCTAssertThrowsError(try CLIPModel(directory: dir)) { error in
            XCTAssertTrue("\(error)".contains("logit_scale"), "\(error)")
        }
        try writeSafetensors([("text_projection.weight", [64, 64])], to: extra)
        XCTAssertThrowsError(try CLIPModel(directory: dir)) { error in
            XCTAssertTrue("\(error)".contains("logit_scale"), "\(error)")
        }
        try FileManager.default.removeItem(at: extra)
        XCTAssertThrowsError(try CLIPModel(directory: dir)) { error in
            XCTAssertTrue("\(error)".contains("text_projection.safetensors"), "\(error)")
        }
        try FileManager.default.copyItem(at: easelMini.appendingPathComponent("vision_model/text_projection.safetensors"),
                                         to: extra)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("text_encoder"))
        XCTAssertThrowsError(try CLIPModel(directory: dir)) { error in
            XCTAssertTrue("\(error)".contains("text_encoder"), "\(error)")
        }
    }
}
