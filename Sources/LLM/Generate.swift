import Foundation

public enum StopReason: String, Sendable, Codable {
    case endOfGeneration   // an end-of-generation / end-of-turn token
    case maxTokens
    case contextFull
    case cancelled
}

public struct TextGenerationResult: Sendable {
    public var tokens: [Int] = []
    public var stopReason: StopReason = .maxTokens
    public var promptTokens = 0
    /// Prompt tokens whose keys and values were already cached from the previous turn.
    public var reusedPromptTokens = 0
    public var prefillSeconds: Double = 0
    public var decodeSeconds: Double = 0
}

/// A thread-safe flag a front end sets to stop generation between two tokens.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    public init() {}
    public var isCancelled: Bool { lock.withLock { flag } }
    public func cancel() { lock.withLock { flag = true } }
}

extension LlamaModel {
    /// Generates after `prompt`. The context keeps whatever prefix of `prompt` it already holds (a
    /// chat's earlier turns), so only new tokens are prefilled. `onToken` sees each new token as it
    /// is sampled (the stop token is not passed); it returns false to stop early.
    public func generate(prompt: [Int], context: LlamaContext, parameters: GenerateParameters,
                         stopTokens: Set<Int>, cancellation: CancellationFlag? = nil,
                         onToken: (Int) -> Bool) throws -> TextGenerationResult {
        try parameters.validate()
        guard !prompt.isEmpty else { throw LLMError.emptyInput }
        guard prompt.count < context.contextLength else {
            throw LLMError.contextOverflow(needed: prompt.count + 1, available: context.contextLength)
        }
        var result = TextGenerationResult()
        result.promptTokens = prompt.count
        // At least the last prompt token is recomputed: its logits start the reply.
        let shared = zip(context.tokens, prompt).prefix { $0 == $1 }.count
        let reuse = min(shared, prompt.count - 1)
        context.truncate(to: reuse)
        result.reusedPromptTokens = reuse

        let clock = ContinuousClock()
        let t0 = clock.now
        var logits = try forward(Array(prompt[reuse...]), context: context).lastLogits!
        result.prefillSeconds = (clock.now - t0).seconds

        var sampler = LogitSampler(parameters)
        var history = prompt
        let t1 = clock.now
        defer { result.decodeSeconds = (clock.now - t1).seconds }
        while true {
            if cancellation?.isCancelled == true { result.stopReason = .cancelled; break }
            if result.tokens.count >= parameters.maxTokens { result.stopReason = .maxTokens; break }
            let next = sampler.sample(logits, history: history)
            if stopTokens.contains(next) { result.stopReason = .endOfGeneration; break }
            result.tokens.append(next)
            history.append(next)
            if !onToken(next) { result.stopReason = .cancelled; break }
            if context.length >= context.contextLength { result.stopReason = .contextFull; break }
            logits = try forward([next], context: context).lastLogits!
        }
        result.decodeSeconds = (clock.now - t1).seconds
        return result
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
