// Port of diffusers/src/diffusers/schedulers/scheduling_euler_ancestral_discrete.py (diffusers 0.42.1).
import Tensors

/// Euler ancestral: an Euler step down to σ_down, then fresh noise of σ_up, so that σ_down² + σ_up² is the
/// next sigma². Each step draws one `randn(sample.shape)` from the pipeline's random source.
public struct EulerAncestralDiscreteScheduler: SigmaScheduler {
    let schedule: NoiseSchedule
    public let timesteps: [Double]
    let sigmas: [Float]
    public let initNoiseSigma: Float

    public init(config: SchedulerConfiguration, stepCount: Int) throws {
        let name = "EulerAncestralDiscreteScheduler"
        schedule = try NoiseSchedule(config, name: name)
        guard stepCount >= 1, stepCount <= schedule.trainSteps else {
            throw SchedulerError.invalidStepCount(stepCount, trainSteps: schedule.trainSteps)
        }
        let spacing = config.timestepSpacing ?? "linspace"
        timesteps = try continuousTimesteps(spacing: spacing, trainSteps: schedule.trainSteps, stepCount: stepCount,
                                            offset: config.stepsOffset ?? 0, name: name)
        let trainSigmas = schedule.sigmas
        sigmas = timesteps.map { Float(numpyInterp($0, trainSigmas)) } + [0]
        initNoiseSigma = eulerInitNoiseSigma(sigmas, spacing: spacing)
    }

    public mutating func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, random: inout any RandomSource) -> Tensor {
        checkStepShapes(modelOutput, sample)
        let from = sigmas[stepIndex], to = sigmas[stepIndex + 1]
        let up = (to * to * (from * from - to * to) / (from * from)).squareRoot()
        let down = (to * to - up * up).squareRoot()
        let dt = down - from
        let y = Tensor(shape: sample.shape)
        for i in 0..<sample.count {
            let x0 = predictOriginal(schedule.prediction, output: modelOutput[i], sample: sample[i], sigma: from)
            let derivative = (sample[i] - x0) / from
            y[i] = sample[i] + derivative * dt
        }
        let noise = random.normal(shape: sample.shape)
        for i in 0..<sample.count { y[i] = y[i] + noise[i] * up }
        return y
    }
}
