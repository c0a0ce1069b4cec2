// Port of diffusers/src/diffusers/schedulers/scheduling_dpmsolver_multistep.py (diffusers 0.42.1).
import Foundation
import Tensors

/// DPM-Solver++ (Lu et al. 2022) in its multistep form, order 1 or 2 (`solver_order`), midpoint or Heun
/// second-order update, optional Karras sigmas. "DPM++ 2M" is this with the defaults. The data prediction
/// x₀ is what the multistep history keeps.
public struct DPMSolverMultistepScheduler: Scheduler {
    let schedule: NoiseSchedule
    public let timesteps: [Double]
    let sigmas: [Float]
    let order: Int
    let heun: Bool
    let lowerOrderFinal: Bool
    let eulerAtFinal: Bool
    let finalSigmaZero: Bool
    var modelOutputs: [Tensor] = []
    var lowerOrderCount = 0
    public var initNoiseSigma: Float { 1 }

    public init(config: SchedulerConfiguration, stepCount: Int) throws {
        let name = "DPMSolverMultistepScheduler"
        schedule = try NoiseSchedule(config, name: name, allowedPredictions: [.epsilon, .vPrediction, .sample])
        guard stepCount >= 1, stepCount <= schedule.trainSteps else {
            throw SchedulerError.invalidStepCount(stepCount, trainSteps: schedule.trainSteps)
        }
        let algorithm = config.algorithmType ?? "dpmsolver++"
        guard algorithm == "dpmsolver++" else {
            throw SchedulerError.unsupported(scheduler: name, key: "algorithm_type", value: algorithm)
        }
        order = config.solverOrder ?? 2
        guard order == 1 || order == 2 else {
            throw SchedulerError.unsupported(scheduler: name, key: "solver_order", value: "\(order)")
        }
        switch config.solverType ?? "midpoint" {
        case "midpoint", "logrho", "bh1", "bh2": heun = false   // diffusers maps the UniPC names to midpoint
        case "heun": heun = true
        case let other: throw SchedulerError.unsupported(scheduler: name, key: "solver_type", value: other)
        }
        lowerOrderFinal = config.lowerOrderFinal ?? true
        eulerAtFinal = config.eulerAtFinal ?? false
        let trainSteps = schedule.trainSteps
        // lambda_min_clipped is -inf by default, so the last usable timestep is num_train_timesteps.
        let last = trainSteps
        var ts: [Double]
        switch config.timestepSpacing ?? "linspace" {
        case "linspace":
            ts = Array(numpyLinspace(0, Double(last - 1), stepCount + 1).map { roundHalfEven($0) }.reversed().dropLast())
        case "leading":
            let ratio = last / (stepCount + 1)
            ts = Array((0...stepCount).map { Double($0 * ratio) }.reversed().dropLast()).map { $0 + Double(config.stepsOffset ?? 0) }
        case "trailing":
            let ratio = Double(trainSteps) / Double(stepCount)
            ts = numpyArange(Double(last), 0, -ratio).map { roundHalfEven($0) - 1 }
        case let other: throw SchedulerError.unsupported(scheduler: name, key: "timestep_spacing", value: other)
        }
        let trainSigmas = schedule.sigmas
        var s: [Double]
        if config.useKarrasSigmas == true {
            s = karrasSigmas(sigmaMin: Double(trainSigmas[0]), sigmaMax: Double(trainSigmas[trainSteps - 1]), count: stepCount)
            let logSigmas = trainSigmas.map { Float(log(Double($0))) }
            ts = s.map { roundHalfEven(sigmaToT($0, logSigmas: logSigmas)) }
        } else {
            s = ts.map { numpyInterp($0, trainSigmas) }
        }
        switch config.finalSigmasType ?? "zero" {
        case "zero": finalSigmaZero = true; s.append(0)
        case "sigma_min": finalSigmaZero = false; s.append(Double(trainSigmas[0]))
        case let other: throw SchedulerError.unsupported(scheduler: name, key: "final_sigmas_type", value: other)
        }
        sigmas = s.map { Float($0) }
        timesteps = ts.map { Double(Int($0)) }
    }

    public func scaleModelInput(_ sample: Tensor, stepIndex: Int) -> Tensor { sample }

    /// α_t = 1/√(σ² + 1) and σ_t = σ·α_t, the VP coefficients of a Karras sigma.
    func alphaSigma(_ sigma: Float) -> (Float, Float) {
        let alpha = 1 / (sigma * sigma + 1).squareRoot()
        return (alpha, sigma * alpha)
    }

    public mutating func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, random: inout any RandomSource) -> Tensor {
        checkStepShapes(modelOutput, sample)
        let count = timesteps.count
        let isLast = stepIndex == count - 1
        let useFirstOrderFinal = isLast && (eulerAtFinal || (lowerOrderFinal && count < 15) || finalSigmaZero)
        // Convert the model output to the data prediction x₀.
        let (alphaS0, sigmaS0) = alphaSigma(sigmas[stepIndex])
        let x0 = Tensor(shape: sample.shape)
        for i in 0..<sample.count {
            switch schedule.prediction {
            case .epsilon: x0[i] = (sample[i] - sigmaS0 * modelOutput[i]) / alphaS0
            case .sample: x0[i] = modelOutput[i]
            case .vPrediction: x0[i] = alphaS0 * sample[i] - sigmaS0 * modelOutput[i]
            }
        }
        modelOutputs.append(x0)
        if modelOutputs.count > order { modelOutputs.removeFirst() }

        let (alphaT, sigmaT) = alphaSigma(sigmas[stepIndex + 1])
        let lambdaT = log(alphaT) - log(sigmaT), lambdaS0 = log(alphaS0) - log(sigmaS0)
        let h = lambdaT - lambdaS0
        let y = Tensor(shape: sample.shape)
        if order == 1 || lowerOrderCount < 1 || useFirstOrderFinal {
            let a = sigmaT / sigmaS0, b = alphaT * (exp(-h) - 1)
            for i in 0..<sample.count { y[i] = a * sample[i] - b * x0[i] }
        } else {
            let (alphaS1, sigmaS1) = alphaSigma(sigmas[stepIndex - 1])
            let lambdaS1 = log(alphaS1) - log(sigmaS1)
            let h0 = lambdaS0 - lambdaS1
            let r0 = h0 / h
            let m0 = modelOutputs[modelOutputs.count - 1], m1 = modelOutputs[modelOutputs.count - 2]
            let a = sigmaT / sigmaS0, b = alphaT * (exp(-h) - 1)
            let c = heun ? alphaT * ((exp(-h) - 1) / h + 1) : 0.5 * (alphaT * (exp(-h) - 1))
            for i in 0..<sample.count {
                let d1 = (1 / r0) * (m0[i] - m1[i])
                y[i] = heun ? a * sample[i] - b * m0[i] + c * d1 : a * sample[i] - b * m0[i] - c * d1
            }
        }
        if lowerOrderCount < order { lowerOrderCount += 1 }
        return y
    }

    public func addNoise(original: Tensor, noise: Tensor, stepIndex: Int) -> Tensor {
        let (alpha, sigma) = alphaSigma(sigmas[stepIndex])
        return axpby(alpha, original, sigma, noise)
    }
}
