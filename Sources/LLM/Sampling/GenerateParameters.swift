/// Per-request sampling settings. Defaults follow llama.cpp's (`common_params_sampling`) except the
/// repetition penalty, 1.1 instead of 1.0: the 135M default model loops without it.
public struct GenerateParameters: Sendable, Equatable {
    /// Tokens to generate at most.
    public var maxTokens = 512
    /// 0 means greedy (argmax).
    public var temperature: Float = 0.8
    /// 0 disables.
    public var topK = 40
    /// 1 disables.
    public var topP: Float = 0.95
    /// 0 disables.
    public var minP: Float = 0.05
    /// 1 disables.
    public var repetitionPenalty: Float = 1.1
    /// How many of the most recent tokens the penalty looks at.
    public var repetitionWindow = 64
    public var seed: UInt64 = 0x5EED

    public init() {}

    public static var greedy: GenerateParameters {
        var p = GenerateParameters()
        p.temperature = 0
        p.repetitionPenalty = 1
        return p
    }

    public func validate() throws {
        func fail(_ s: String) -> LLMError { .invalidParameter(s) }
        guard maxTokens >= 0 else { throw fail("max tokens must be ≥ 0, got \(maxTokens)") }
        guard temperature >= 0, temperature.isFinite else { throw fail("temperature must be ≥ 0, got \(temperature)") }
        guard topK >= 0 else { throw fail("top-k must be ≥ 0, got \(topK)") }
        guard topP > 0, topP <= 1 else { throw fail("top-p must be in (0, 1], got \(topP)") }
        guard minP >= 0, minP < 1 else { throw fail("min-p must be in [0, 1), got \(minP)") }
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else { throw fail("repetition penalty must be > 0, got \(repetitionPenalty)") }
        guard repetitionWindow >= 0 else { throw fail("repetition window must be ≥ 0") }
    }
}
