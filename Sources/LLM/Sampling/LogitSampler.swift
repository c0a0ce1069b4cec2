import Foundation

/// Picks the next token from logits. The filter order is llama.cpp's default sampler chain:
/// repetition penalty → top-k → top-p → min-p → temperature → a categorical draw from SplitMix64(seed).
/// Top-p and min-p judge the untempered distribution, as llama.cpp does. Temperature 0 is argmax
/// (after the penalty), which needs no random numbers.
public struct LogitSampler: Sendable {
    public let parameters: GenerateParameters
    private var rng: SplitMix64

    public init(_ parameters: GenerateParameters) {
        self.parameters = parameters
        rng = SplitMix64(seed: parameters.seed)
    }

    public mutating func sample(_ logits: [Float], history: [Int]) -> Int {
        let p = parameters
        var logits = logits
        if p.repetitionPenalty != 1, p.repetitionWindow > 0 {
            // llama.cpp's rule: shrink a positive logit, grow a negative one, once per distinct token.
            for id in Set(history.suffix(p.repetitionWindow)) where id >= 0 && id < logits.count {
                logits[id] = logits[id] > 0 ? logits[id] / p.repetitionPenalty : logits[id] * p.repetitionPenalty
            }
        }
        if p.temperature <= 0 { return Self.argmax(logits) }

        // Candidates sorted by logit, best first; ties keep the lower id first.
        var candidates = logits.indices.filter { !logits[$0].isNaN }
        if candidates.isEmpty { return 0 }
        candidates.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        if p.topK > 0 && p.topK < candidates.count { candidates.removeLast(candidates.count - p.topK) }

        let top = logits[candidates[0]]
        var probs = candidates.map { Double(expf(logits[$0] - top)) }
        var total = probs.reduce(0, +)
        if p.topP < 1 {
            var cumulative = 0.0, keep = candidates.count
            for (i, q) in probs.enumerated() {
                cumulative += q / total
                if cumulative >= Double(p.topP) { keep = i + 1; break }
            }
            candidates.removeLast(candidates.count - keep)
            probs.removeLast(probs.count - keep)
            total = probs.reduce(0, +)
        }
        if p.minP > 0 {
            // Relative to the most likely token, whose unnormalised weight is exp(0) = 1.
            let keep = probs.prefix { $0 >= Double(p.minP) }.count
            candidates.removeLast(candidates.count - max(keep, 1))
        }
        let weights = candidates.map { Double(expf((logits[$0] - top) / p.temperature)) }
        let sum = weights.reduce(0, +)
        var r = rng.nextUnit() * sum
        for (i, w) in weights.enumerated() {
            r -= w
            if r < 0 { return candidates[i] }
        }
        return candidates[candidates.count - 1]
    }

    /// The first index of the largest finite logit.
    public static func argmax(_ logits: [Float]) -> Int {
        var best = 0, bestValue = -Float.infinity
        for (i, v) in logits.enumerated() where v > bestValue { best = i; bestValue = v }
        return best
    }
}
