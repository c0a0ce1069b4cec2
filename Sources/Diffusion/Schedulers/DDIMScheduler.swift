// Port of diffusers/src/diffusers/schedulers/scheduling_ddim.py (diffusers 0.42.1).
import Tensors

/// DDIM (Song et al. 2021). `eta` 0 is deterministic; eta > 0 adds fresh noise each step, drawn from the
/// pipeline's random source as diffusers draws it from the generator.
public struct DDIMScheduler: Scheduler {
    let schedule: NoiseSchedule
    let finalAlphaCumprod: Float
    let stepRatio: Int
    let clipRange: Float?
    let eta: Float
    let integerTimesteps: [Int]
    public let timesteps: [Double]
    public var initNoiseSigma: Float { 1 }

    public init(config: SchedulerConfiguration, stepCount: Int, eta: Float = 0) throws {
        schedule = try NoiseSchedule(config, name: "DDIMScheduler", allowedPredictions: [.epsilon, .vPrediction, .sample])
        guard stepCount >= 1, stepCount <= schedule.trainSteps else {
            throw SchedulerError.invalidStepCount(stepCount, trainSteps: schedule.trainSteps)
        }
        finalAlphaCumprod = (config.setAlphaToOne ?? true) ? 1 : schedule.alphasCumprod[0]
        stepRatio = schedule.trainSteps / stepCount
        clipRange = (config.clipSample ?? true) ? Float(config.clipSampleRange ?? 1) : nil
        self.eta = eta
        integerTimesteps = try discreteTimesteps(spacing: config.timestepSpacing ?? "leading",
                                                 trainSteps: schedule.trainSteps, stepCount: stepCount,
                                                 offset: config.stepsOffset ?? 0, name: "DDIMScheduler")
        timesteps = integerTimesteps.map(Double.init)
    }

    public func scaleModelInput(_ sample: Tensor, stepIndex: Int) -> Tensor { sample }

    public mutating func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, random: inout any RandomSource) -> Tensor {
        checkStepShapes(modelOutput, sample)
        let t = integerTimesteps[stepIndex], prevT = t - stepRatio
        let alphaT = schedule.alphasCumprod[t]
        let alphaPrev = prevT >= 0 ? schedule.alphasCumprod[prevT] : finalAlphaCumprod
        let betaT = 1 - alphaT
        let n = sample.count
        let x0 = Tensor(shape: sample.shape), eps = Tensor(shape: sample.shape)
        for i in 0..<n {
            switch schedule.prediction {
            case .epsilon:
                x0[i] = (sample[i] - betaT.squareRoot() * modelOutput[i]) / alphaT.squareRoot()
                eps[i] = modelOutput[i]
            case .sample:
                x0[i] = modelOutput[i]
                eps[i] = (sample[i] - alphaT.squareRoot() * x0[i]) / betaT.squareRoot()
            case .vPrediction:
                x0[i] = alphaT.squareRoot() * sample[i] - betaT.squareRoot() * modelOutput[i]
                eps[i] = alphaT.squareRoot() * modelOutput[i] + betaT.squareRoot() * sample[i]
            }
            if let r = clipRange { x0[i] = min(max(x0[i], -r), r) }
        }
        let variance = ((1 - alphaPrev) / betaT) * (1 - alphaT / alphaPrev)
        let std = eta * variance.squareRoot()
        let directionCoeff = (1 - alphaPrev - std * std).squareRoot()
        let y = Tensor(shape: sample.shape)
        for i in 0..<n { y[i] = alphaPrev.squareRoot() * x0[i] + directionCoeff * eps[i] }
        if eta > 0 {
            let noise = random.normal(shape: sample.shape)
            for i in 0..<n { y[i] = y[i] + std * noise[i] }
        }
        return y
    }

    public func addNoise(original: Tensor, noise: Tensor, stepIndex: Int) -> Tensor {
        ddpmAddNoise(schedule, original: original, noise: noise, timestep: integerTimesteps[stepIndex])
    }
}
