// Port of diffusers/src/diffusers/schedulers/scheduling_pndm.py (diffusers 0.42.1).
import Tensors

/// PNDM in its PLMS form (`skip_prk_steps: true`, SD v1's default): the fourth-order linear multistep
/// method of Liu et al. (2022) warmed up with a second-order step, as crowsonkb's PLMS sampler does.
/// The Runge-Kutta warm-up (`skip_prk_steps: false`) is rejected at init.
public struct PNDMScheduler: Scheduler {
    let schedule: NoiseSchedule
    let finalAlphaCumprod: Float
    let stepRatio: Int
    public let timesteps: [Double]
    let integerTimesteps: [Int]
    public var initNoiseSigma: Float { 1 }
    var ets: [Tensor] = []
    var counter = 0
    var curSample: Tensor?

    public init(config: SchedulerConfiguration, stepCount: Int) throws {
        schedule = try NoiseSchedule(config, name: "PNDMScheduler")
        guard stepCount >= 1, stepCount <= schedule.trainSteps else {
            throw SchedulerError.invalidStepCount(stepCount, trainSteps: schedule.trainSteps)
        }
        if config.skipPrkSteps != true {
            throw SchedulerError.unsupported(scheduler: "PNDMScheduler", key: "skip_prk_steps", value: "false")
        }
        finalAlphaCumprod = config.setAlphaToOne == true ? 1 : schedule.alphasCumprod[0]
        stepRatio = schedule.trainSteps / stepCount
        let base = try discreteTimesteps(spacing: config.timestepSpacing ?? "leading", trainSteps: schedule.trainSteps,
                                         stepCount: stepCount, offset: config.stepsOffset ?? 0, name: "PNDMScheduler")
        // PLMS repeats the second timestep: its second step re-evaluates the model there (a Heun-like warm-up).
        let ascending = Array(base.reversed())
        var plms = Array(ascending.dropLast())
        if ascending.count >= 2 { plms.append(ascending[ascending.count - 2]) }
        plms.append(ascending[ascending.count - 1])
        integerTimesteps = plms.reversed()
        timesteps = integerTimesteps.map(Double.init)
    }

    public func scaleModelInput(_ sample: Tensor, stepIndex: Int) -> Tensor { sample }

    public mutating func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, random: inout any RandomSource) -> Tensor {
        checkStepShapes(modelOutput, sample)
        var timestep = integerTimesteps[stepIndex]
        var prevTimestep = timestep - stepRatio
        if counter != 1 {
            ets = Array(ets.suffix(3))
            ets.append(modelOutput)
        } else {
            prevTimestep = timestep
            timestep += stepRatio
        }
        var output = modelOutput, x = sample
        let n = modelOutput.count
        if ets.count == 1 && counter == 0 {
            curSample = sample
        } else if ets.count == 1 && counter == 1 {
            output = Tensor(shape: modelOutput.shape)
            for i in 0..<n { output[i] = (modelOutput[i] + ets[0][i]) / 2 }
            x = curSample!
            curSample = nil
        } else if ets.count == 2 {
            output = Tensor(shape: modelOutput.shape)
            let e1 = ets[1], e0 = ets[0]
            for i in 0..<n { output[i] = (3 * e1[i] - e0[i]) / 2 }
        } else if ets.count == 3 {
            output = Tensor(shape: modelOutput.shape)
            let e2 = ets[2], e1 = ets[1], e0 = ets[0]
            for i in 0..<n { output[i] = (23 * e2[i] - 16 * e1[i] + 5 * e0[i]) / 12 }
        } else {
            output = Tensor(shape: modelOutput.shape)
            let e3 = ets[3], e2 = ets[2], e1 = ets[1], e0 = ets[0]
            for i in 0..<n { output[i] = (1 / 24) * (55 * e3[i] - 59 * e2[i] + 37 * e1[i] - 9 * e0[i]) }
        }
        let prev = previousSample(x, timestep: timestep, prevTimestep: prevTimestep, output: output)
        counter += 1
        return prev
    }

    /// Formula (9) of the PNDM paper.
    func previousSample(_ sample: Tensor, timestep: Int, prevTimestep: Int, output: Tensor) -> Tensor {
        let alphaT = schedule.alphasCumprod[timestep]
        let alphaPrev = prevTimestep >= 0 ? schedule.alphasCumprod[prevTimestep] : finalAlphaCumprod
        let betaT = 1 - alphaT, betaPrev = 1 - alphaPrev
        var eps = output
        if schedule.prediction == .vPrediction {
            eps = axpby(alphaT.squareRoot(), output, betaT.squareRoot(), sample)
        }
        let sampleCoeff = (alphaPrev / alphaT).squareRoot()
        let denom = alphaT * betaPrev.squareRoot() + (alphaT * betaT * alphaPrev).squareRoot()
        let diff = alphaPrev - alphaT
        let y = Tensor(shape: sample.shape)
        for i in 0..<sample.count { y[i] = sampleCoeff * sample[i] - diff * eps[i] / denom }
        return y
    }

    public func addNoise(original: Tensor, noise: Tensor, stepIndex: Int) -> Tensor {
        ddpmAddNoise(schedule, original: original, noise: noise, timestep: integerTimesteps[stepIndex])
    }
}

/// DDPM's forward process, q(x_t | x_0): √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε.
func ddpmAddNoise(_ schedule: NoiseSchedule, original: Tensor, noise: Tensor, timestep: Int) -> Tensor {
    let a = schedule.alphasCumprod[timestep]
    return axpby(a.squareRoot(), original, (1 - a).squareRoot(), noise)
}
