/// How an image was made, written into its PNG as AUTOMATIC1111's `parameters` text chunk, which existing
/// tools (A1111's PNG Info, ComfyUI, civitai, sd-parsers) read:
///
///     <prompt>
///     Negative prompt: <negative prompt>          (omitted when empty)
///     Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 512x512, Model: easel-mini, …
///
/// Easel adds its own fields to the last line: the text encoder and the random source.
public struct ImageMetadata: Sendable, Equatable {
    public var prompt: String
    public var negativePrompt: String
    public var steps: Int
    public var sampler: SchedulerKind
    public var guidanceScale: Float
    public var seed: UInt64
    public var width: Int
    public var height: Int
    public var model: String
    public var textEncoder: String
    public var random: RandomSourceKind
    public var batchSize = 1
    public var batchPosition = 0
    public var denoisingStrength: Double?

    public init(prompt: String, negativePrompt: String, steps: Int, sampler: SchedulerKind, guidanceScale: Float,
                seed: UInt64, width: Int, height: Int, model: String, textEncoder: String, random: RandomSourceKind) {
        self.prompt = prompt; self.negativePrompt = negativePrompt; self.steps = steps; self.sampler = sampler
        self.guidanceScale = guidanceScale; self.seed = seed; self.width = width; self.height = height
        self.model = model; self.textEncoder = textEncoder; self.random = random
    }

    /// A1111 values are comma-separated: a value holding a comma, colon or quote is JSON-quoted, as A1111 does.
    static func quote(_ s: String) -> String {
        guard s.contains(",") || s.contains(":") || s.contains("\"") || s.contains("\n") else { return s }
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }

    public var parameters: String {
        var lines = [prompt]
        if !negativePrompt.isEmpty { lines.append("Negative prompt: \(negativePrompt)") }
        var fields = ["Steps: \(steps)", "Sampler: \(sampler.a1111Name)", "CFG scale: \(formatted(guidanceScale))",
                      "Seed: \(seed)", "Size: \(width)x\(height)", "Model: \(Self.quote(model))"]
        if let s = denoisingStrength { fields.append("Denoising strength: \(formatted(Float(s)))") }
        if batchSize > 1 { fields += ["Batch size: \(batchSize)", "Batch pos: \(batchPosition)"] }
        fields += ["Text encoder: \(Self.quote(textEncoder))", "RNG: \(random.rawValue)", "Generator: Easel"]
        lines.append(fields.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }

    /// 7.5 → "7.5", 7 → "7.0" (A1111 prints floats with Python's repr).
    func formatted(_ x: Float) -> String {
        let s = "\(x)"
        return s.contains(".") || s.contains("e") ? s : s + ".0"
    }

    /// The chunks to write: A1111's `parameters`.
    public var textChunks: [(String, String)] { [("parameters", parameters)] }
}
