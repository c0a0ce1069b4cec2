import Foundation
import Tensors
import WeightIO

/// LLaMA hyper-parameters, decoded from the checkpoint itself: GGUF `llama.*` metadata or a Hugging
/// Face `config.json` (LlamaConfig's keys).
public struct LlamaConfiguration: Sendable, Equatable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var vocabularySize: Int
    public var contextLength: Int
    public var ropeTheta: Float
    public var rmsNormEps: Float
    public var ropeScaling: RoPEScaling

    public enum RoPEScaling: Sendable, Equatable {
        case none
        /// Positions divided by `factor` (HF `rope_type: linear`, GGUF `rope.scaling.type = linear`).
        case linear(factor: Float)
        /// Llama 3.1's per-frequency smoothing (HF `_compute_llama3_parameters`).
        case llama3(factor: Float, lowFrequencyFactor: Float, highFrequencyFactor: Float, originalContextLength: Int)
    }

    public init(hiddenSize: Int, intermediateSize: Int, layerCount: Int, headCount: Int, kvHeadCount: Int,
                headDim: Int? = nil, vocabularySize: Int, contextLength: Int, ropeTheta: Float = 10000,
                rmsNormEps: Float = 1e-5, ropeScaling: RoPEScaling = .none) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim ?? hiddenSize / max(headCount, 1)
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.ropeTheta = ropeTheta
        self.rmsNormEps = rmsNormEps
        self.ropeScaling = ropeScaling
    }

    /// Checks the numbers a hostile or broken file could get wrong before anything is allocated.
    public func validate(source: String) throws {
        func bad(_ why: String) -> WeightIOError { .malformed(file: source, reason: "LLaMA config: \(why)") }
        let dims = [hiddenSize, intermediateSize, layerCount, headCount, kvHeadCount, headDim, vocabularySize, contextLength]
        guard dims.allSatisfy({ $0 > 0 && $0 <= 1 << 24 }) else { throw bad("dimension out of range in \(dims)") }
        guard headCount % kvHeadCount == 0 else { throw bad("\(headCount) heads not a multiple of \(kvHeadCount) KV heads") }
        guard headDim % 2 == 0 else { throw bad("odd head dimension \(headDim)") }
        guard ropeTheta > 0, rmsNormEps > 0, rmsNormEps < 1 else { throw bad("rope base \(ropeTheta) or RMS eps \(rmsNormEps) out of range") }
    }

    /// From GGUF metadata (`{arch}.block_count`, `{arch}.embedding_length`, …, as llama.cpp reads them).
    public init(gguf: GGUFFile) throws {
        let arch = gguf.string("general.architecture") ?? "llama"
        guard arch == "llama" else {
            throw WeightIOError.malformed(file: gguf.path, reason: "architecture '\(arch)' is not LLaMA")
        }
        func require(_ key: String) throws -> Int {
            guard let v = gguf.int("\(arch).\(key)") else {
                throw WeightIOError.malformed(file: gguf.path, reason: "missing metadata \(arch).\(key)")
            }
            return v
        }
        let heads = try require("attention.head_count")
        let hidden = try require("embedding_length")
        // Vocabulary size: the metadata key is optional in older files; the token list always exists.
        let vocab = gguf.int("\(arch).vocab_size") ?? gguf.stringArray("tokenizer.ggml.tokens")?.count ?? 0
        var scaling = RoPEScaling.none
        let scalingType = gguf.string("\(arch).rope.scaling.type")
        if scalingType == "linear", let f = gguf.float("\(arch).rope.scaling.factor"), f > 0 {
            scaling = .linear(factor: Float(f))
        } else if let f = gguf.float("\(arch).rope.scale_linear"), f > 0, f != 1 {
            scaling = .linear(factor: Float(f))   // pre-2023-11 files
        }
        self.init(
            hiddenSize: hidden,
            intermediateSize: try require("feed_forward_length"),
            layerCount: try require("block_count"),
            headCount: heads,
            kvHeadCount: gguf.int("\(arch).attention.head_count_kv") ?? heads,
            headDim: gguf.int("\(arch).attention.key_length") ?? gguf.int("\(arch).rope.dimension_count") ?? hidden / max(heads, 1),
            vocabularySize: vocab,
            contextLength: try require("context_length"),
            ropeTheta: Float(gguf.float("\(arch).rope.freq_base") ?? 10000),
            rmsNormEps: Float(gguf.float("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5),
            ropeScaling: scaling)
        try validate(source: gguf.path)
    }

    /// From a Hugging Face `config.json` (LlamaForCausalLM).
    public init(huggingFaceConfig url: URL) throws {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw WeightIOError.cannotOpen(file: path, reason: error.localizedDescription)
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw WeightIOError.malformed(file: path, reason: "not a JSON object")
        }
        func int(_ k: String) -> Int? { (json[k] as? NSNumber)?.intValue }
        func float(_ k: String) -> Float? { (json[k] as? NSNumber)?.floatValue }
        func require(_ k: String) throws -> Int {
            guard let v = int(k) else { throw WeightIOError.malformed(file: path, reason: "missing or non-integer \"\(k)\"") }
            return v
        }
        if let types = json["architectures"] as? [String], !types.contains(where: { $0.hasPrefix("Llama") }) {
            throw WeightIOError.malformed(file: path, reason: "architectures \(types) are not LLaMA")
        }
        var scaling = RoPEScaling.none
        // transformers ≥ 5 writes `rope_parameters` (with rope_theta inside); older ones `rope_scaling`.
        if let rs = (json["rope_scaling"] ?? json["rope_parameters"]) as? [String: Any] {
            let kind = (rs["rope_type"] ?? rs["type"]) as? String
            let factor = (rs["factor"] as? NSNumber)?.floatValue ?? 1
            switch kind {
            case "linear": scaling = .linear(factor: factor)
            case "llama3":
                scaling = .llama3(factor: factor,
                                  lowFrequencyFactor: (rs["low_freq_factor"] as? NSNumber)?.floatValue ?? 1,
                                  highFrequencyFactor: (rs["high_freq_factor"] as? NSNumber)?.floatValue ?? 4,
                                  originalContextLength: (rs["original_max_position_embeddings"] as? NSNumber)?.intValue ?? 8192)
            case "default", nil: break
            case let other?:
                throw WeightIOError.malformed(file: path, reason: "rope_scaling type '\(other)' is not supported")
            }
        }
        let heads = try require("num_attention_heads")
        let hidden = try require("hidden_size")
        self.init(
            hiddenSize: hidden,
            intermediateSize: try require("intermediate_size"),
            layerCount: try require("num_hidden_layers"),
            headCount: heads,
            kvHeadCount: int("num_key_value_heads") ?? heads,
            headDim: int("head_dim") ?? hidden / max(heads, 1),
            vocabularySize: try require("vocab_size"),
            contextLength: int("max_position_embeddings") ?? 2048,
            ropeTheta: float("rope_theta") ?? (json["rope_parameters"] as? [String: Any]).flatMap { ($0["rope_theta"] as? NSNumber)?.floatValue } ?? 10000,
            rmsNormEps: float("rms_norm_eps") ?? 1e-6,
            ropeScaling: scaling)
        try validate(source: path)
    }

    /// The per-frequency divisors of Llama 3 scaling, or nil when frequencies are unscaled.
    public var ropeFrequencyFactors: [Float]? {
        guard case .llama3(let factor, let low, let high, let original) = ropeScaling else { return nil }
        let lowWavelength = Double(original) / Double(low)
        let highWavelength = Double(original) / Double(high)
        return (0..<(headDim / 2)).map { i in
            let freq = 1 / pow(Double(ropeTheta), Double(2 * i) / Double(headDim))
            let wavelength = 2 * Double.pi / freq
            if wavelength < highWavelength { return 1 }
            if wavelength > lowWavelength { return factor }
            let smooth = (Double(original) / wavelength - Double(low)) / Double(high - low)
            let scaled = (1 - smooth) * freq / Double(factor) + smooth * freq
            return Float(freq / scaled)
        }
    }

    public var positionScale: Float {
        if case .linear(let factor) = ropeScaling { return 1 / factor }
        return 1
    }
}
