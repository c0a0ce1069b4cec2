import XCTest
import Tensors
@testable import Diffusion

/// Fixtures: Fixtures/schedulers/<name>.json from tools/make_sd_fixtures.py (diffusers 0.42.1, torch 2.15.0).
/// Each holds the scheduler's timesteps for several step counts and a 10-step chain: for every step the
/// scaled model input, the model output (sin(1.3·scaled)·0.8 + t/1000·0.05, computed by torch), and the
/// resulting prev_sample. The config is SD v1.4's scheduler_config.json plus the variant's overrides, as
/// `Class.from_config(config)`; stochastic steps draw from `torch.Generator().manual_seed(11)`.
final class SchedulerGoldenTests: XCTestCase {
    struct Step: Decodable { let timestep: Double; let scaled: [Float]; let model_output: [Float]; let prev_sample: [Float] }
    struct AddNoise: Decodable { let start_index: Int; let original: [Float]; let noise: [Float]; let noisy: [Float] }
    struct Golden: Decodable {
        let config: SchedulerConfiguration
        let step_kwargs: [String: Double]
        let step_count: Int
        let init_noise_sigma: Float
        let timesteps: [String: [Double]]
        let steps: [Step]
        let initial_sample: [Float]
        let add_noise: AddNoise
        let noise_seed: UInt64
    }

    func make(_ name: String, _ config: SchedulerConfiguration, steps: Int, eta: Float) throws -> any Scheduler {
        switch name {
        case "pndm": try PNDMScheduler(config: config, stepCount: steps)
        case "ddim", "ddim-eta", "ddim-trailing": try DDIMScheduler(config: config, stepCount: steps, eta: eta)
        case "euler", "euler-leading": try EulerDiscreteScheduler(config: config, stepCount: steps)
        case "euler-a": try EulerAncestralDiscreteScheduler(config: config, stepCount: steps)
        default: try DPMSolverMultistepScheduler(config: config, stepCount: steps)
        }
    }

    func check(_ name: String) throws {
        let g = try loadJSON(Golden.self, "schedulers/\(name).json")
        let eta = Float(g.step_kwargs["eta"] ?? 0)
        for (countText, expected) in g.timesteps {
            let s = try make(name, g.config, steps: Int(countText)!, eta: eta)
            XCTAssertEqual(s.timesteps.count, expected.count, "\(name) \(countText) steps: timestep count")
            for (a, b) in zip(s.timesteps, expected) where abs(a - b) > 1e-3 {
                XCTFail("\(name) \(countText) steps: timesteps \(s.timesteps) vs diffusers \(expected)")
                break
            }
        }
        var s = try make(name, g.config, steps: g.step_count, eta: eta)
        XCTAssertEqual(s.initNoiseSigma, g.init_noise_sigma, accuracy: 1e-5 * max(1, g.init_noise_sigma), name)
        var random: any RandomSource = TorchRandomSource(seed: g.noise_seed)
        var sample = Tensor(shape: [1, 4, 4, 4], values: g.initial_sample)
        for (i, step) in g.steps.enumerated() {
            XCTAssertEqual(s.timesteps[i], step.timestep, accuracy: 1e-3, "\(name) step \(i) timestep")
            let scaled = s.scaleModelInput(sample, stepIndex: i)
            assertClose(scaled.scalars, step.scaled, tol: Tolerance.schedulerStep, label: "\(name) step \(i) scaled input")
            let output = Tensor(shape: sample.shape, values: step.model_output)
            sample = s.step(modelOutput: output, stepIndex: i, sample: sample, random: &random)
            let scale = max(1, step.prev_sample.map(abs).max()!)
            assertClose(sample.scalars, step.prev_sample, tol: Tolerance.schedulerStep * scale, label: "\(name) step \(i) prev_sample")
        }
        let fresh = try make(name, g.config, steps: g.step_count, eta: eta)
        let noisy = fresh.addNoise(original: Tensor(shape: [64], values: g.add_noise.original),
                                   noise: Tensor(shape: [64], values: g.add_noise.noise), stepIndex: g.add_noise.start_index)
        assertClose(noisy.scalars, g.add_noise.noisy, tol: Tolerance.schedulerStep * 20, label: "\(name) add_noise")
    }

    func testPNDMMatchesDiffusers() throws { try check("pndm") }
    func testDDIMMatchesDiffusers() throws { try check("ddim") }
    func testDDIMWithEtaMatchesDiffusers() throws { try check("ddim-eta") }
    func testDDIMTrailingSpacingMatchesDiffusers() throws { try check("ddim-trailing") }
    func testEulerMatchesDiffusers() throws { try check("euler") }
    func testEulerLeadingSpacingMatchesDiffusers() throws { try check("euler-leading") }
    func testEulerAncestralMatchesDiffusers() throws { try check("euler-a") }
    func testDPMSolverPlusPlus2MMatchesDiffusers() throws { try check("dpmpp-2m") }
    func testDPMSolverPlusPlus2MKarrasMatchesDiffusers() throws { try check("dpmpp-2m-karras") }
    func testDPMSolverHeunWithSigmaMinMatchesDiffusers() throws { try check("dpmpp-2m-heun-sigmamin") }

    func testUnsupportedOptionsAreClearErrors() {
        var c = SchedulerConfiguration.stableDiffusionV1
        c.betaSchedule = "cubic"
        XCTAssertThrowsError(try PNDMScheduler(config: c, stepCount: 10)) { error in
            XCTAssertEqual("\(error)", "PNDMScheduler: beta_schedule = cubic is not supported")
        }
        XCTAssertThrowsError(try DDIMScheduler(config: .stableDiffusionV1, stepCount: 0))
        XCTAssertThrowsError(try EulerDiscreteScheduler(config: .stableDiffusionV1, stepCount: 1001))
        var d = SchedulerConfiguration.stableDiffusionV1
        d.algorithmType = "sde-dpmsolver++"
        XCTAssertThrowsError(try DPMSolverMultistepScheduler(config: d, stepCount: 10))
        var p = SchedulerConfiguration.stableDiffusionV1
        p.skipPrkSteps = false
        XCTAssertThrowsError(try PNDMScheduler(config: p, stepCount: 10))
    }

    func testBadSchedulerConfigFileIsAClearError() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-scheduler-\(UUID()).json")
        try Data("{\"num_train_timesteps\": \"many\"}".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try SchedulerConfiguration.load(contentsOf: url)) { error in
            XCTAssertTrue("\(error)".contains("scheduler config"), "\(error)")
        }
    }
}
