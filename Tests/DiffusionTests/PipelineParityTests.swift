import XCTest
import Tensors
import WeightIO
@testable import Diffusion

/// The whole tiny pipeline against diffusers' StableDiffusionPipeline / StableDiffusionImg2ImgPipeline.
/// Fixtures: Fixtures/tiny-sd and Fixtures/tiny-sd-io/pipeline.{safetensors,json} from
/// tools/make_sd_fixtures.py (diffusers 0.42.1, torch 2.15.0); images are diffusers' output_type="np"
/// ([N, H, W, 3] in [0, 1]).
final class PipelineParityTests: XCTestCase {
    struct Settings: Decodable {
        struct Text: Decodable { let steps: Int; let guidance: Float; let negative_prompt: String }
        struct Seeded: Decodable { let prompts: [String]; let steps: Int; let guidance: Float; let seed: UInt64 }
        struct Img2Img: Decodable { let strength: Double; let steps: Int; let guidance: Float; let seed: UInt64 }
        let prompt: String
        let pndm: Text
        let euler_a_seeded: Seeded
        let img2img: Img2Img
    }

    static let pipeline: StableDiffusionPipeline? = try? StableDiffusionPipeline(directory: fixtureURL("tiny-sd"))

    func load() throws -> (StableDiffusionPipeline, SafetensorsFile, Settings) {
        let p = try XCTUnwrap(Self.pipeline ?? (try StableDiffusionPipeline(directory: fixtureURL("tiny-sd"))))
        return (p, try SafetensorsFile(path: fixtureURL("tiny-sd-io/pipeline.safetensors").path),
                try loadJSON(Settings.self, "tiny-sd-io/pipeline.json"))
    }

    /// [N, 3, H, W] → diffusers' [N, H, W, 3].
    func nhwc(_ t: Tensor) -> [Float] {
        let n = t.shape[0], h = t.shape[2], w = t.shape[3]
        var out = [Float](repeating: 0, count: t.count)
        for b in 0..<n { for c in 0..<3 { for p in 0..<(h * w) { out[(b * h * w + p) * 3 + c] = t[(b * 3 + c) * h * w + p] } } }
        return out
    }

    func testPNDMFromFixedLatentsMatchesDiffusers() throws {
        let (p, f, s) = try load()
        var r = GenerationRequest(prompt: s.prompt)
        r.steps = s.pndm.steps
        r.guidanceScale = s.pndm.guidance
        r.negativePrompt = s.pndm.negative_prompt
        r.initialLatents = try f.tensor("start_latents")
        var seen: [Int] = []
        let result = try p.generate(r) { seen.append($0.step); return true }
        XCTAssertEqual(seen, Array(1...(s.pndm.steps + 1)), "PLMS runs steps + 1 model evaluations")
        XCTAssertEqual(result.width, 32)
        assertClose(nhwc(result.pixels), try f.tensor("pndm_image").scalars, tol: Tolerance.module, label: "PNDM image")
    }

    func testSameSeedDrawsTheSameImagesAsDiffusers() throws {
        // torch.Generator().manual_seed(1234): the initial latents and Euler-ancestral noise of every step
        // come from TorchRandomSource, so Easel and diffusers draw the same pictures.
        let (p, f, s) = try load()
        var r = GenerationRequest(prompts: s.euler_a_seeded.prompts)
        r.steps = s.euler_a_seeded.steps
        r.guidanceScale = s.euler_a_seeded.guidance
        r.seed = s.euler_a_seeded.seed
        r.scheduler = .eulerAncestral
        let result = try p.generate(r)
        XCTAssertEqual(result.images.count, 2)
        assertClose(nhwc(result.pixels), try f.tensor("euler_a_seeded_images").scalars, tol: Tolerance.module, label: "Euler a seeded images")
        let again = try p.generate(r)
        XCTAssertEqual(again.images, result.images, "same seed, same images")
    }

    func testImg2ImgMatchesDiffusers() throws {
        let (p, f, s) = try load()
        let initTensor = try f.tensor("img2img_init")   // [1, 3, 32, 32], multiples of 1/255
        var bytes = [UInt8](repeating: 0, count: 32 * 32 * 3)
        for c in 0..<3 { for q in 0..<(32 * 32) { bytes[q * 3 + c] = UInt8((initTensor[c * 1024 + q] * 255).rounded()) } }
        var r = GenerationRequest(prompt: s.prompt)
        r.initImage = RGBImage(width: 32, height: 32, pixels: bytes)
        r.strength = s.img2img.strength
        r.steps = s.img2img.steps
        r.guidanceScale = s.img2img.guidance
        r.seed = s.img2img.seed
        var steps = 0
        let result = try p.generate(r) { _ in steps += 1; return true }
        XCTAssertEqual(steps, 7, "PLMS from index 4 of its 11 timesteps")
        assertClose(nhwc(result.pixels), try f.tensor("img2img_image").scalars, tol: Tolerance.module, label: "img2img image")
    }

    func testCancellationStopsTheLoop() throws {
        let (p, _, s) = try load()
        var r = GenerationRequest(prompt: s.prompt)
        r.steps = 5
        var calls = 0
        XCTAssertThrowsError(try p.generate(r) { _ in calls += 1; return calls < 2 }) { error in
            XCTAssertEqual(error as? DiffusionError, .cancelled)
        }
        XCTAssertEqual(calls, 2)
    }

    func testLongerTextStatesAreAccepted() throws {
        // Easel's LLM encoder hands the UNet more than 77 positions.
        let (p, _, s) = try load()
        var r = GenerationRequest(prompt: s.prompt)
        r.steps = 2
        r.promptStates = Tensor(shape: [1, 120, 32], values: (0..<(120 * 32)).map { Float(($0 * 7919) % 13) / 13 - 0.5 })
        r.negativeStates = Tensor(shape: [1, 120, 32])
        let result = try p.generate(r)
        XCTAssertEqual(result.images.count, 1)
        XCTAssertTrue(result.pixels.scalars.allSatisfy { $0.isFinite })
    }

    func testBadRequestsAreClearErrors() throws {
        let (p, _, s) = try load()
        var r = GenerationRequest(prompt: s.prompt)
        r.width = 31
        XCTAssertThrowsError(try p.generate(r)) { XCTAssertTrue("\($0)".contains("multiples of 2"), "\($0)") }
        r.width = nil
        r.steps = 0
        XCTAssertThrowsError(try p.generate(r))
        r.steps = 2
        r.promptStates = Tensor(shape: [1, 10, 31])
        XCTAssertThrowsError(try p.generate(r)) { XCTAssertTrue("\($0)".contains("prompt states"), "\($0)") }
    }
}
