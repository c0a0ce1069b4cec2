import XCTest
import Tensors
import WeightIO
@testable import Diffusion

/// The tiny SD v1 modules against diffusers/transformers. Fixtures: Fixtures/tiny-sd (a diffusers folder with
/// random weights, the UNet as the fp16 variant) and Fixtures/tiny-sd-io/*.safetensors (inputs and outputs),
/// both made by tools/make_sd_fixtures.py (torch 2.15.0, diffusers 0.42.1, transformers 5.24.0).
final class ModelParityTests: XCTestCase {
    var tiny: URL { fixtureURL("tiny-sd") }

    func io(_ name: String) throws -> SafetensorsFile { try SafetensorsFile(path: fixtureURL("tiny-sd-io/\(name)").path) }

    func testCLIPTextModelLastHiddenStateMatchesTransformers() throws {
        let model = try CLIPTextModel(directory: tiny.appendingPathComponent("text_encoder"))
        let f = try io("clip.safetensors")
        let ids = try f.tensor("input_ids").scalars.map { Int($0) }
        XCTAssertEqual(ids.count, 77)
        let hidden = try model(ids)
        XCTAssertEqual(hidden.shape, [77, 32])
        assertClose(hidden.scalars, try f.tensor("last_hidden_state").scalars, tol: Tolerance.module, label: "CLIP last_hidden_state")
    }

    func testUNetNoisePredictionMatchesDiffusers() throws {
        let unet = try UNet2DConditionModel(directory: tiny.appendingPathComponent("unet"))
        let f = try io("unet.safetensors")
        let latents = try f.tensor("latents"), states = try f.tensor("states")
        let out = try unet(latents, timestep: 401, encoderHiddenStates: states)
        XCTAssertEqual(out.shape, [2, 4, 16, 16])
        assertClose(out.scalars, try f.tensor("noise_401").scalars, tol: Tolerance.module, label: "UNet t=401, 77 text positions")
    }

    func testUNetTakesFractionalTimestepsAndAnyTextLength() throws {
        // Euler passes fractional timesteps; Easel's LLM encoder passes text states that are not 77 long.
        let unet = try UNet2DConditionModel(directory: tiny.appendingPathComponent("unet"))
        let f = try io("unet.safetensors")
        let out = try unet(try f.tensor("latents"), timestep: 537.75, encoderHiddenStates: try f.tensor("short_states"))
        assertClose(out.scalars, try f.tensor("noise_537_75").scalars, tol: Tolerance.module, label: "UNet t=537.75, 20 text positions")
    }

    func testVAEDecodeMatchesDiffusers() throws {
        let vae = try AutoencoderKL(directory: tiny.appendingPathComponent("vae"))
        let f = try io("vae.safetensors")
        let image = try vae.decode(try f.tensor("z"))
        XCTAssertEqual(image.shape, [1, 3, 32, 32])
        assertClose(image.scalars, try f.tensor("decoded").scalars, tol: Tolerance.module, label: "VAE decode")
    }

    func testVAEEncodeMatchesDiffusers() throws {
        let vae = try AutoencoderKL(directory: tiny.appendingPathComponent("vae"))
        let f = try io("vae.safetensors")
        let (mean, logvar) = try vae.encode(try f.tensor("image"))
        assertClose(mean.scalars, try f.tensor("mean").scalars, tol: Tolerance.module, label: "VAE latent mean")
        assertClose(logvar.scalars, try f.tensor("logvar").scalars, tol: Tolerance.module, label: "VAE latent logvar")
    }

    func testUNetRejectsWrongInputShapes() throws {
        let unet = try UNet2DConditionModel(directory: tiny.appendingPathComponent("unet"))
        XCTAssertThrowsError(try unet(Tensor(shape: [1, 3, 8, 8]), timestep: 1, encoderHiddenStates: Tensor(shape: [1, 77, 32])))
        XCTAssertThrowsError(try unet(Tensor(shape: [1, 4, 8, 8]), timestep: 1, encoderHiddenStates: Tensor(shape: [1, 77, 31])))
        XCTAssertThrowsError(try unet(Tensor(shape: [2, 4, 8, 8]), timestep: 1, encoderHiddenStates: Tensor(shape: [1, 77, 32])))
    }
}

/// Fixtures/tiny-sd-single.safetensors: tiny-sd as one original-layout checkpoint, from
/// tools/make_sd_single_file_fixture.py (its renaming checked against diffusers 0.42.1's single-file converters).
extension ModelParityTests {
    func testSingleFileCheckpointLoadsTheSameModules() throws {
        let dir = fixtureURL("tiny-sd")
        func config<T: Decodable>(_ t: T.Type, _ path: String) throws -> T {
            try JSONDecoder().decode(T.self, from: Data(contentsOf: dir.appendingPathComponent(path)))
        }
        let p = try StableDiffusionPipeline(
            singleFile: fixtureURL("tiny-sd-single.safetensors"), tokenizer: dir.appendingPathComponent("tokenizer"),
            unetConfig: try config(UNetConfiguration.self, "unet/config.json"),
            vaeConfig: try config(AutoencoderConfiguration.self, "vae/config.json"),
            textConfig: try config(CLIPTextConfiguration.self, "text_encoder/config.json"))
        let u = try io("unet.safetensors")
        let noise = try p.unet(try u.tensor("latents"), timestep: 401, encoderHiddenStates: try u.tensor("states"))
        assertClose(noise.scalars, try u.tensor("noise_401").scalars, tol: Tolerance.module, label: "single-file UNet")
        let v = try io("vae.safetensors")
        assertClose(try p.vae.decode(try v.tensor("z")).scalars, try v.tensor("decoded").scalars, tol: Tolerance.module, label: "single-file VAE decode")
        assertClose(try p.vae.encode(try v.tensor("image")).mean.scalars, try v.tensor("mean").scalars, tol: Tolerance.module, label: "single-file VAE encode")
        let c = try io("clip.safetensors")
        let hidden = try p.textEncoder(try c.tensor("input_ids").scalars.map { Int($0) })
        assertClose(hidden.scalars, try c.tensor("last_hidden_state").scalars, tol: Tolerance.module, label: "single-file CLIP")
    }

    func testSingleFileMissingKeyNamesTheOriginalName() throws {
        // Tiny weights under SD v1's default architecture: the first missing or misshapen tensor is named.
        XCTAssertThrowsError(try StableDiffusionPipeline(singleFile: fixtureURL("tiny-sd-single.safetensors"),
                                                         tokenizer: fixtureURL("tiny-sd/tokenizer"))) { error in
            XCTAssertTrue("\(error)".contains("cond_stage_model.transformer.text_model.") || "\(error)".contains("model.diffusion_model."), "\(error)")
        }
    }
}

/// Fixtures/tiny-unet-linear: a UNet with linear proj_in/proj_out and two transformer layers per block, run on 9×6 latents (odd: the upsampler resizes 5×3 back to 9×6), from tools/make_sd_fixtures.py.
extension ModelParityTests {
    func testUNetWithLinearProjectionAndOddSizesMatchesDiffusers() throws {
        let unet = try UNet2DConditionModel(directory: fixtureURL("tiny-unet-linear"))
        let f = try io("unet_linear.safetensors")
        let out = try unet(try f.tensor("latents"), timestep: 250, encoderHiddenStates: try f.tensor("states"))
        XCTAssertEqual(out.shape, [2, 4, 9, 6])
        assertClose(out.scalars, try f.tensor("noise_250").scalars, tol: Tolerance.module, label: "linear-projection UNet")
    }
}
