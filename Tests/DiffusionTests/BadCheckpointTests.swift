import XCTest
import WeightIO
@testable import Diffusion

/// A wrong checkpoint fails at load with an error naming the key (or config field) and the file.
final class BadCheckpointTests: XCTestCase {
    /// A copy of one tiny-sd component folder with its config.json edited.
    func component(_ name: String, edit: (inout [String: Any]) -> Void) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("easel-bad-\(UUID())")
        try FileManager.default.copyItem(at: fixtureURL("tiny-sd/\(name)"), to: dir)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let configURL = dir.appendingPathComponent("config.json")
        var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        return dir
    }

    func testMissingTensorNamesTheKey() throws {
        let dir = try component("vae") { $0["layers_per_block"] = 2 }
        XCTAssertThrowsError(try AutoencoderKL(directory: dir)) { error in
            XCTAssertEqual(error as? WeightIOError, .missingTensor(
                name: "encoder.down_blocks.0.resnets.1.norm1.weight",
                file: dir.appendingPathComponent("diffusion_pytorch_model.safetensors").path))
        }
    }

    func testShapeMismatchNamesTheKeyAndBothShapes() throws {
        let dir = try component("vae") { $0["latent_channels"] = 8 }
        XCTAssertThrowsError(try AutoencoderKL(directory: dir)) { error in
            XCTAssertTrue("\(error)".contains("encoder.conv_out.weight"), "\(error)")
            XCTAssertTrue("\(error)".contains("[8, 32, 3, 3]") && "\(error)".contains("[16, 32, 3, 3]"), "\(error)")
        }
        let unet = try component("unet") { $0["cross_attention_dim"] = 64 }
        XCTAssertThrowsError(try UNet2DConditionModel(directory: unet)) { error in
            XCTAssertTrue("\(error)".contains("attn2.to_k.weight"), "\(error)")
        }
    }

    func testUnknownBlockTypeIsNamed() throws {
        let dir = try component("unet") { $0["down_block_types"] = ["DownBlock2D", "FancyDownBlock2D"] }
        XCTAssertThrowsError(try UNet2DConditionModel(directory: dir)) { error in
            XCTAssertEqual("\(error)", "UNet2DConditionModel: down_block_types = FancyDownBlock2D is not supported")
        }
        let vae = try component("vae") { $0["up_block_types"] = ["UpDecoderBlock2D", "AttnUpDecoderBlock2D"] }
        XCTAssertThrowsError(try AutoencoderKL(directory: vae)) { error in
            XCTAssertTrue("\(error)".contains("AttnUpDecoderBlock2D"), "\(error)")
        }
    }

    func testUnsupportedConditioningIsNamed() throws {
        let dir = try component("unet") { $0["addition_embed_type"] = "text_time" }
        XCTAssertThrowsError(try UNet2DConditionModel(directory: dir)) { error in
            XCTAssertTrue("\(error)".contains("addition_embed_type = text_time"), "\(error)")
        }
    }

    func testMalformedConfigAndMissingFolderAreClearErrors() throws {
        let dir = try component("text_encoder") { _ in }
        try Data("{\"hidden_size\": \"wide\"}".utf8).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try CLIPTextModel(directory: dir)) { error in
            XCTAssertTrue("\(error)".contains("config.json") && "\(error)".contains("hidden_size"), "\(error)")
        }
        let nowhere = FileManager.default.temporaryDirectory.appendingPathComponent("easel-none-\(UUID())")
        XCTAssertThrowsError(try StableDiffusionPipeline(directory: nowhere)) { error in
            XCTAssertTrue("\(error)".contains("model_index.json"), "\(error)")
        }
    }
}
