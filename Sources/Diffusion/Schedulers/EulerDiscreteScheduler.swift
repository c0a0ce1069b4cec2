// Port of diffusers/src/diffusers/schedulers/scheduling_euler_discrete.py (diffusers 0.42.1).
import Foundation
import Tensors

/// Euler's method on the probability-flow ODE in sigma space (Karras et al. 2022, Algorithm 2 without
/// churn). Timesteps are fractional training steps; the model input is scaled by 1/√(σ² + 1).
public struct EulerDiscreteScheduler: SigmaScheduler {
    let schedule: NoiseSchedule
    public let timesteps: [Double]
    /// One per timestep plus the final sigma (0, or the smallest training sigma with final_sigmas_type "sigma_min").
    let sigmas: [Float]
    public let initNoiseSigma: Float

    public init(config: SchedulerConfiguration, stepCount: Int) throws {
        let name = "EulerDiscreteScheduler"
        schedule = try NoiseSchedule(config, name: name)
        guard stepCount >= 1, stepCount <= schedule.trainSteps else {
            throw SchedulerError.invalidStepCount(stepCount, trainSteps: schedule.trainSteps)
        }
        let spacing = config.timestepSpacing ?? "linspace"
        var ts = try continuousTimesteps(spacing: spacing, trainSteps: schedule.trainSteps, stepCount: stepCount,
                                         offset: config.stepsOffset ?? 0, name: name)
        let trainSigmas = schedule.sigmas
        var s: [Double]
        switch config.interpolationType ?? "linear" {
        case "linear": s = ts.map { numpyInterp($0, trainSigmas) }
        case let other: throw SchedulerError.unsupported(scheduler: name, key: "interpolation_type", value: other)
        }
        if config.useKarrasSigmas == true {
            s = karrasSigmas(sigmaMin: Double(s.last!), sigmaMax: Double(s.first!), count: stepCount)
            let logSigmas = trainSigmas.map { Float(log(Double($0))) }
            ts = s.map { Double(Float(sigmaToT($0, logSigmas: logSigmas))) }
        }
        let last: Float
        switch config.finalSigmasType ?? "zero" {
        case "zero": last = 0
        case "sigma_min": last = trainSigmas[0]
        case let other: throw SchedulerError.unsupported(scheduler: name, key: "final_sigmas_type", value: other)
        }
        sigmas = s.map { Float($0) } + [last]
        timesteps = ts
        initNoiseSigma = eulerInitNoiseSigma(sigmas, spacing: spacing)
    }

    public mutating func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, random: inout any RandomSource) -> Tensor {
        checkStepShapes(modelOutput, sample)
        let sigma = sigmas[stepIndex], sigmaNext = sigmas[stepIndex + 1]
        let dt = sigmaNext - sigma
        let y = Tensor(shape: sample.shape)
        for i in 0..<sample.count {
            let x0 = predictOriginal(schedule.prediction, output: modelOutput[i], sample: sample[i], sigma: sigma)
            let derivative = (sample[i] - x0) / sigma
            y[i] = sample[i] + derivative * dt
        }
        return y
    }
}

/// x₀ from the model output in sigma space (Euler and Euler ancestral).
@inline(__always) func predictOriginal(_ p: PredictionType, output: Float, sample: Float, sigma: Float) -> Float {
    switch p {
    case .vPrediction: output * (-sigma / (sigma * sigma + 1).squareRoot()) + sample / (sigma * sigma + 1)
    default: sample - sigma * output
    }
}
