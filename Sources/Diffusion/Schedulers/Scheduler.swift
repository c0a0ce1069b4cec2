// Shared parts of the diffusers schedulers (diffusers 0.42.1, src/diffusers/schedulers/): the beta schedules,
// `timestep_spacing`, numpy's linspace/arange/interp as those files call them, and the protocol the
// pipeline drives.
import Foundation
import Tensors

/// A sampler in diffusers words. `timesteps` are the values handed to the UNet, in order; the pipeline
/// calls `scaleModelInput` and `step` once per index into them.
public protocol Scheduler {
    var timesteps: [Double] { get }
    /// Standard deviation of the initial noise: 1 for the DDPM-style schedulers, the largest sigma for Euler.
    var initNoiseSigma: Float { get }
    /// Model evaluations per entry of a step: 1 for all the schedulers here (as diffusers' `order`).
    func scaleModelInput(_ sample: Tensor, stepIndex: Int) -> Tensor
    /// Returns the previous (less noisy) sample. Ancestral and eta > 0 steps draw noise from `random`,
    /// one `randn(sample.shape)` call, as diffusers draws from the pipeline's generator.
    mutating func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, random: inout any RandomSource) -> Tensor
    /// img2img: noises `original` to the level of `timesteps[stepIndex]` (diffusers' `add_noise` with
    /// `set_begin_index(stepIndex)`).
    func addNoise(original: Tensor, noise: Tensor, stepIndex: Int) -> Tensor
}

public enum SchedulerError: Error, CustomStringConvertible, Equatable {
    case unsupported(scheduler: String, key: String, value: String)
    case invalidStepCount(Int, trainSteps: Int)
    case badConfig(path: String, reason: String)
    case timestepOutOfRange(scheduler: String, stepCount: Int, timestep: Int, trainSteps: Int)

    public var description: String {
        switch self {
        case .timestepOutOfRange(let s, let n, let t, let train):
            "\(s): \(n) steps put a timestep at \(t), outside 0..<\(train) (steps_offset): use fewer steps"
        case .unsupported(let s, let k, let v): "\(s): \(k) = \(v) is not supported"
        case .invalidStepCount(let n, let t): "step count \(n) must be between 1 and num_train_timesteps (\(t))"
        case .badConfig(let p, let r): "scheduler config \(p): \(r)"
        }
    }
}

/// The keys of scheduler/scheduler_config.json the schedulers here read. Every field is optional: a key a
/// config lacks takes the default of the scheduler class it is given to, as diffusers' `from_config` does
/// (SD v1.4's PNDM config has no `timestep_spacing`, so Euler made from it uses Euler's "linspace").
public struct SchedulerConfiguration: Codable, Sendable, Equatable {
    public var className: String?
    public var numTrainTimesteps: Int?
    public var betaStart: Double?
    public var betaEnd: Double?
    public var betaSchedule: String?
    public var trainedBetas: [Double]?
    public var predictionType: String?
    public var timestepSpacing: String?
    public var stepsOffset: Int?
    public var setAlphaToOne: Bool?
    public var skipPrkSteps: Bool?
    public var clipSample: Bool?
    public var clipSampleRange: Double?
    public var thresholding: Bool?
    public var useKarrasSigmas: Bool?
    public var solverOrder: Int?
    public var algorithmType: String?
    public var solverType: String?
    public var lowerOrderFinal: Bool?
    public var eulerAtFinal: Bool?
    public var finalSigmasType: String?
    public var interpolationType: String?
    public var rescaleBetasZeroSnr: Bool?

    enum CodingKeys: String, CodingKey {
        case className = "_class_name", numTrainTimesteps = "num_train_timesteps", betaStart = "beta_start"
        case betaEnd = "beta_end", betaSchedule = "beta_schedule", trainedBetas = "trained_betas"
        case predictionType = "prediction_type", timestepSpacing = "timestep_spacing", stepsOffset = "steps_offset"
        case setAlphaToOne = "set_alpha_to_one", skipPrkSteps = "skip_prk_steps", clipSample = "clip_sample"
        case clipSampleRange = "clip_sample_range", thresholding, useKarrasSigmas = "use_karras_sigmas"
        case solverOrder = "solver_order", algorithmType = "algorithm_type", solverType = "solver_type"
        case lowerOrderFinal = "lower_order_final", eulerAtFinal = "euler_at_final"
        case finalSigmasType = "final_sigmas_type", interpolationType = "interpolation_type"
        case rescaleBetasZeroSnr = "rescale_betas_zero_snr"
    }

    public init() {}

    /// SD v1.4's scheduler/scheduler_config.json.
    public static let stableDiffusionV1: SchedulerConfiguration = {
        var c = SchedulerConfiguration()
        c.className = "PNDMScheduler"
        c.numTrainTimesteps = 1000
        c.betaStart = 0.00085
        c.betaEnd = 0.012
        c.betaSchedule = "scaled_linear"
        c.setAlphaToOne = false
        c.skipPrkSteps = true
        c.stepsOffset = 1
        c.clipSample = false
        return c
    }()

    public static func load(contentsOf url: URL) throws -> SchedulerConfiguration {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SchedulerError.badConfig(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        do { return try JSONDecoder().decode(SchedulerConfiguration.self, from: data) } catch {
            throw SchedulerError.badConfig(path: url.path, reason: "\(error)")
        }
    }
}

/// The sampler names of the CLI and of the image metadata (AUTOMATIC1111's names in `a1111Name`).
public enum SchedulerKind: String, CaseIterable, Sendable {
    case pndm, ddim, euler, eulerAncestral = "euler-a", dpmppTwoM = "dpmpp-2m", dpmppTwoMKarras = "dpmpp-2m-karras"

    public var a1111Name: String {
        switch self {
        case .pndm: "PLMS"
        case .ddim: "DDIM"
        case .euler: "Euler"
        case .eulerAncestral: "Euler a"
        case .dpmppTwoM: "DPM++ 2M"
        case .dpmppTwoMKarras: "DPM++ 2M Karras"
        }
    }

    /// Builds the scheduler from a checkpoint's config, as `Class.from_config(pipe.scheduler.config)`.
    public func make(config: SchedulerConfiguration, stepCount: Int, eta: Float = 0) throws -> any Scheduler {
        switch self {
        case .pndm: try PNDMScheduler(config: config, stepCount: stepCount)
        case .ddim: try DDIMScheduler(config: config, stepCount: stepCount, eta: eta)
        case .euler: try EulerDiscreteScheduler(config: config, stepCount: stepCount)
        case .eulerAncestral: try EulerAncestralDiscreteScheduler(config: config, stepCount: stepCount)
        case .dpmppTwoM: try DPMSolverMultistepScheduler(config: config, stepCount: stepCount)
        case .dpmppTwoMKarras:
            try DPMSolverMultistepScheduler(config: { var c = config; c.useKarrasSigmas = true; return c }(),
                                            stepCount: stepCount)
        }
    }
}

/// `prediction_type`: what the UNet predicts.
enum PredictionType: String { case epsilon, vPrediction = "v_prediction", sample }

/// Betas and their cumulative alpha products, computed in the order and precision torch uses: float32
/// `torch.linspace` (start + step·i for the first half, end − step·(n−1−i) for the second), `** 2` as x·x,
/// and `torch.cumprod`, which accumulates in double on the CPU.
struct NoiseSchedule {
    let trainSteps: Int
    let alphasCumprod: [Float]
    let prediction: PredictionType

    init(_ config: SchedulerConfiguration, name: String, betaStartDefault: Double = 0.0001,
         betaEndDefault: Double = 0.02, scheduleDefault: String = "linear",
         allowedPredictions: [PredictionType] = [.epsilon, .vPrediction]) throws {
        let n = config.numTrainTimesteps ?? 1000
        guard n >= 2, n <= 100_000 else {
            throw SchedulerError.unsupported(scheduler: name, key: "num_train_timesteps", value: "\(n)")
        }
        if config.rescaleBetasZeroSnr == true {
            throw SchedulerError.unsupported(scheduler: name, key: "rescale_betas_zero_snr", value: "true")
        }
        if config.thresholding == true {
            throw SchedulerError.unsupported(scheduler: name, key: "thresholding", value: "true")
        }
        let predictionName = config.predictionType ?? "epsilon"
        guard let p = PredictionType(rawValue: predictionName), allowedPredictions.contains(p) else {
            throw SchedulerError.unsupported(scheduler: name, key: "prediction_type", value: predictionName)
        }
        prediction = p
        trainSteps = n
        let start = config.betaStart ?? betaStartDefault, end = config.betaEnd ?? betaEndDefault
        var betas: [Float]
        if let trained = config.trainedBetas {
            guard trained.count == n else {
                throw SchedulerError.unsupported(scheduler: name, key: "trained_betas", value: "\(trained.count) values for \(n) steps")
            }
            betas = trained.map { Float($0) }
        } else {
            switch config.betaSchedule ?? scheduleDefault {
            case "linear": betas = torchLinspace(Float(start), Float(end), n)
            case "scaled_linear": betas = torchLinspace(Float(start.squareRoot()), Float(end.squareRoot()), n).map { $0 * $0 }
            case "squaredcos_cap_v2":
                // betas_for_alpha_bar with the cosine transform, in Python floats then float32.
                func alphaBar(_ t: Double) -> Double { let c = cos((t + 0.008) / 1.008 * Double.pi / 2); return c * c }
                betas = (0..<n).map { i in
                    Float(min(1 - alphaBar(Double(i + 1) / Double(n)) / alphaBar(Double(i) / Double(n)), 0.999))
                }
            case let other: throw SchedulerError.unsupported(scheduler: name, key: "beta_schedule", value: other)
            }
        }
        var acc: Double = 1
        alphasCumprod = betas.map { beta in acc *= Double(1 - beta); return Float(acc) }
    }

    /// ((1 − ᾱ) / ᾱ) ** 0.5 in float32, the Karras-style sigma of each training step.
    var sigmas: [Float] { alphasCumprod.map { ((1 - $0) / $0).squareRoot() } }
}

/// torch.linspace for float32.
func torchLinspace(_ start: Float, _ end: Float, _ steps: Int) -> [Float] {
    guard steps > 1 else { return steps == 1 ? [start] : [] }
    let step = (end - start) / Float(steps - 1)
    let half = steps / 2
    return (0..<steps).map { i in i < half ? start + step * Float(i) : end - step * Float(steps - i - 1) }
}

/// numpy.linspace in float64: i·step + start, the last value exactly `stop`.
func numpyLinspace(_ start: Double, _ stop: Double, _ num: Int) -> [Double] {
    guard num > 1 else { return num == 1 ? [start] : [] }
    let step = (stop - start) / Double(num - 1)
    var y = (0..<num).map { Double($0) * step + start }
    y[num - 1] = stop
    return y
}

/// numpy.arange with a float step: length ceil((stop − start) / step), values start + i·delta where delta is
/// (start + step) − start, as numpy's fill computes it.
func numpyArange(_ start: Double, _ stop: Double, _ step: Double) -> [Double] {
    let length = Int(((stop - start) / step).rounded(.up))
    guard length > 0 else { return [] }
    let delta = (start + step) - start
    return (0..<length).map { start + Double($0) * delta }
}

/// numpy.interp(x, arange(len(fp)), fp) in float64.
func numpyInterp(_ x: Double, _ fp: [Float]) -> Double {
    if x <= 0 { return Double(fp[0]) }
    if x >= Double(fp.count - 1) { return Double(fp[fp.count - 1]) }
    let j = Int(x.rounded(.down))
    let slope = (Double(fp[j + 1]) - Double(fp[j])) / 1.0
    return slope * (x - Double(j)) + Double(fp[j])
}

/// np.round: half to even.
@inline(__always) func roundHalfEven(_ x: Double) -> Double { x.rounded(.toNearestOrEven) }

/// `timestep_spacing` for the DDPM-family schedulers (PNDM, DDIM): integer timesteps, descending.
func discreteTimesteps(spacing: String, trainSteps: Int, stepCount: Int, offset: Int, name: String) throws -> [Int] {
    let steps: [Int]
    switch spacing {
    case "linspace":
        steps = numpyLinspace(0, Double(trainSteps - 1), stepCount).map { Int(roundHalfEven($0)) }.reversed()
    case "leading":
        let ratio = trainSteps / stepCount
        steps = (0..<stepCount).map { $0 * ratio + offset }.reversed()
    case "trailing":
        let ratio = Double(trainSteps) / Double(stepCount)
        steps = numpyArange(Double(trainSteps), 0, -ratio).map { Int(roundHalfEven($0)) - 1 }
    default:
        throw SchedulerError.unsupported(scheduler: name, key: "timestep_spacing", value: spacing)
    }
    // "leading" with steps_offset 1 puts the last of 1000 steps at t = 1000, past the table (diffusers
    // raises an IndexError there): refuse the step count instead of reading out of bounds.
    if let bad = steps.first(where: { $0 < 0 || $0 >= trainSteps }) {
        throw SchedulerError.timestepOutOfRange(scheduler: name, stepCount: stepCount, timestep: bad, trainSteps: trainSteps)
    }
    return steps
}

/// `timestep_spacing` for the sigma schedulers (Euler): float timesteps, descending.
func continuousTimesteps(spacing: String, trainSteps: Int, stepCount: Int, offset: Int, name: String) throws -> [Double] {
    switch spacing {
    case "linspace":
        return numpyLinspace(0, Double(trainSteps - 1), stepCount).map { Double(Float($0)) }.reversed()
    case "leading":
        let ratio = trainSteps / stepCount
        return (0..<stepCount).map { Double($0 * ratio + offset) }.reversed()
    case "trailing":
        let ratio = Double(trainSteps) / Double(stepCount)
        return numpyArange(Double(trainSteps), 0, -ratio).map { Double(Float(roundHalfEven($0))) - 1 }
    default:
        throw SchedulerError.unsupported(scheduler: name, key: "timestep_spacing", value: spacing)
    }
}

/// Karras et al. (2022) sigmas, ρ = 7, between the schedule's smallest and largest sigma (float64).
func karrasSigmas(sigmaMin: Double, sigmaMax: Double, count: Int) -> [Double] {
    let rho = 7.0
    let minInv = pow(sigmaMin, 1 / rho), maxInv = pow(sigmaMax, 1 / rho)
    return numpyLinspace(0, 1, count).map { pow(maxInv + $0 * (minInv - maxInv), rho) }
}

/// diffusers' `_sigma_to_t`: the fractional training step whose log-sigma is `sigma`'s, by linear
/// interpolation in log space. `logSigmas` are float32, as `np.log` of the float32 sigmas leaves them.
func sigmaToT(_ sigma: Double, logSigmas: [Float]) -> Double {
    let logSigma = log(max(sigma, 1e-10))
    var low = 0
    for (i, ls) in logSigmas.enumerated() where logSigma - Double(ls) >= 0 { low = i }
    low = min(low, logSigmas.count - 2)
    let lo = Double(logSigmas[low]), hi = Double(logSigmas[low + 1])
    let w = min(max((lo - logSigma) / (lo - hi), 0), 1)
    return (1 - w) * Double(low) + w * Double(low + 1)
}

/// The step's sample count must match its model output's; a mismatch is a programming error.
@inline(__always) func checkStepShapes(_ output: Tensor, _ sample: Tensor) {
    precondition(output.count == sample.count, "model output \(output.shape) vs sample \(sample.shape)")
}

/// y[i] = a·x[i] + b·z[i], elementwise in float32 in that order.
func axpby(_ a: Float, _ x: Tensor, _ b: Float, _ z: Tensor) -> Tensor {
    let y = Tensor(shape: x.shape)
    for i in 0..<x.count { y[i] = a * x[i] + b * z[i] }
    return y
}

/// The Euler schedulers, which step in sigma space (k-diffusion's formulation, diffusers'
/// `EulerDiscreteScheduler` and `EulerAncestralDiscreteScheduler`): the model sees x / sqrt(σ² + 1),
/// and img2img noise is added as x + σ·noise.
protocol SigmaScheduler: Scheduler {
    /// One per step, then the final 0 (or σ_min).
    var sigmas: [Float] { get }
}

extension SigmaScheduler {
    public func scaleModelInput(_ sample: Tensor, stepIndex: Int) -> Tensor {
        let sigma = sigmas[stepIndex]
        let d = (sigma * sigma + 1).squareRoot()
        let y = Tensor(shape: sample.shape)
        for i in 0..<sample.count { y[i] = sample[i] / d }
        return y
    }

    public func addNoise(original: Tensor, noise: Tensor, stepIndex: Int) -> Tensor {
        axpby(1, original, sigmas[stepIndex], noise)
    }
}

/// diffusers' `init_noise_sigma` for the Euler schedulers: σ_max for linspace/trailing spacing,
/// sqrt(σ_max² + 1) otherwise.
func eulerInitNoiseSigma(_ sigmas: [Float], spacing: String) -> Float {
    let maxSigma = sigmas.max()!
    return (spacing == "linspace" || spacing == "trailing") ? maxSigma : (maxSigma * maxSigma + 1).squareRoot()
}
