// Port of transformers' models/llama/modeling_llama.py (LlamaForCausalLM, transformers 5.x), reading
// either Hugging Face safetensors or llama.cpp GGUF weights, quantized ones included.
import Foundation
import Tensors
import WeightIO

/// Where the weights came from, which fixes how RoPE pairs dimensions: llama.cpp's converter permutes
/// the rows of Q and K so that rotating adjacent pairs (`.normal`) equals Hugging Face's rotate-half
/// (`.neox`) on the original rows. Since q·k is unchanged when Q and K are permuted alike, Easel keeps
/// each file's rows as stored and picks the matching rotation instead of un-permuting anything.
public enum LlamaCheckpointFormat: Sendable {
    case gguf, huggingFace

    var ropeLayout: RoPELayout { self == .gguf ? .normal : .neox }
}

public final class LlamaModel: @unchecked Sendable {
    public let config: LlamaConfiguration
    public let format: LlamaCheckpointFormat
    /// Keeps the memory-mapped file alive: every WeightMatrix below points into it.
    public let store: WeightStore

    struct Layer {
        let attentionNorm: Tensor      // [hidden]
        let wq: WeightMatrix           // [heads * headDim, hidden]
        let wk: WeightMatrix           // [kvHeads * headDim, hidden]
        let wv: WeightMatrix           // [kvHeads * headDim, hidden]
        let wo: WeightMatrix           // [hidden, heads * headDim]
        let ffnNorm: Tensor            // [hidden]
        let gate: WeightMatrix         // [ffn, hidden]
        let up: WeightMatrix           // [ffn, hidden]
        let down: WeightMatrix         // [hidden, ffn]
    }

    let tokenEmbedding: WeightMatrix   // [vocab, hidden]
    let layers: [Layer]
    let outputNorm: Tensor             // [hidden]
    let output: WeightMatrix           // [vocab, hidden]; the embedding itself when tied
    let ropeFrequencyFactors: [Float]?

    public init(store: WeightStore, config: LlamaConfiguration, format: LlamaCheckpointFormat) throws {
        self.store = store
        self.config = config
        self.format = format
        func name(_ n: LlamaTensorName) -> String { format == .gguf ? n.gguf : n.huggingFace }
        func matrix(_ n: LlamaTensorName, _ rows: Int, _ cols: Int) throws -> WeightMatrix {
            let key = name(n)
            guard let shape = store.shape(of: key) else { throw WeightIOError.missingTensor(name: key, file: store.path) }
            guard shape == [rows, cols] else {
                throw WeightIOError.shapeMismatch(name: key, file: store.path, expected: [rows, cols], found: shape)
            }
            return try store.weightMatrix(key)
        }
        // Layer and output weights are only ever multiplied, so they are repacked for the single-token
        // kernels (WeightMatrix.interleaved); the embedding's rows are looked up one by one and stay as stored.
        func layerMatrix(_ n: LlamaTensorName, _ rows: Int, _ cols: Int) throws -> WeightMatrix {
            let m = try matrix(n, rows, cols)
            return m.interleaved(releasingSource: m.owner is MappedFile)
        }
        func vector(_ n: LlamaTensorName, _ count: Int) throws -> Tensor {
            try store.tensor(name(n), expectedShape: [count])
        }
        let c = config
        let qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim
        tokenEmbedding = try matrix(.tokenEmbedding, c.vocabularySize, c.hiddenSize)
        layers = try (0..<c.layerCount).map { l in
            Layer(attentionNorm: try vector(.attentionNorm(l), c.hiddenSize),
                  wq: try layerMatrix(.attentionQ(l), qDim, c.hiddenSize),
                  wk: try layerMatrix(.attentionK(l), kvDim, c.hiddenSize),
                  wv: try layerMatrix(.attentionV(l), kvDim, c.hiddenSize),
                  wo: try layerMatrix(.attentionOutput(l), c.hiddenSize, qDim),
                  ffnNorm: try vector(.ffnNorm(l), c.hiddenSize),
                  gate: try layerMatrix(.ffnGate(l), c.intermediateSize, c.hiddenSize),
                  up: try layerMatrix(.ffnUp(l), c.intermediateSize, c.hiddenSize),
                  down: try layerMatrix(.ffnDown(l), c.hiddenSize, c.intermediateSize))
        }
        outputNorm = try vector(.outputNorm, c.hiddenSize)
        // SmolLM2's GGUF and tie_word_embeddings checkpoints have no output matrix: the embedding is
        // reused, as llama.cpp and transformers both do.
        output = store.contains(name(.output)) ? try layerMatrix(.output, c.vocabularySize, c.hiddenSize) : tokenEmbedding
        if format == .gguf, store.contains(LlamaTensorName.ropeFrequencies.gguf) {
            ropeFrequencyFactors = try store.tensor(LlamaTensorName.ropeFrequencies.gguf, expectedShape: [c.headDim / 2]).scalars
        } else {
            ropeFrequencyFactors = config.ropeFrequencyFactors
        }
    }

    /// Opens a GGUF file or a Hugging Face folder (config.json + safetensors).
    public static func load(path: String) throws -> LlamaModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw WeightIOError.cannotOpen(file: path, reason: "no such file or folder")
        }
        if isDirectory.boolValue {
            let config = try LlamaConfiguration(huggingFaceConfig: URL(fileURLWithPath: path).appendingPathComponent("config.json"))
            return try LlamaModel(store: try openWeights(path: path), config: config, format: .huggingFace)
        }
        let gguf = try GGUFFile(path: path)
        return try LlamaModel(store: gguf, config: try LlamaConfiguration(gguf: gguf), format: .gguf)
    }

    /// A fresh context. `precision` of the KV cache: f16 (the default, as llama.cpp's) halves its
    /// memory; f32 keeps full precision (the transformers parity tests use it).
    public func makeContext(contextLength: Int? = nil, maxBatch: Int = 256, precision: KVCachePrecision = .f16) -> LlamaContext {
        let n = max(1, min(contextLength ?? min(config.contextLength, 4096), 1 << 20))
        return LlamaContext(model: self, contextLength: n, maxBatch: max(1, min(maxBatch, n)), precision: precision)
    }

    public struct Outputs: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// Logits of the last position only: all that generation needs.
        public static let lastLogits = Outputs(rawValue: 1)
        /// Logits of every position of this call, [tokens, vocab].
        public static let allLogits = Outputs(rawValue: 2)
        /// The last hidden layer after the final RMSNorm for every position, [tokens, hidden]: the
        /// conditioning the Stable Diffusion bridge reads.
        public static let hiddenStates = Outputs(rawValue: 4)
    }

    public struct ForwardResult {
        public var lastLogits: [Float]?
        public var allLogits: Tensor?
        public var hiddenStates: Tensor?
    }

    /// Runs `tokens` at the positions after what `context` already holds, appending their keys and
    /// values. Long inputs go through in chunks of the context's batch size, each chunk as
    /// matrix-matrix products.
    public func forward(_ tokens: [Int], context: LlamaContext, outputs: Outputs = .lastLogits) throws -> ForwardResult {
        guard !tokens.isEmpty else { throw LLMError.emptyInput }
        guard context.length + tokens.count <= context.contextLength else {
            throw LLMError.contextOverflow(needed: context.length + tokens.count, available: context.contextLength)
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= config.vocabularySize }) {
            throw LLMError.tokenOutOfRange(token: bad, vocabularySize: config.vocabularySize)
        }
        var result = ForwardResult()
        let hidden = config.hiddenSize
        if outputs.contains(.allLogits) { result.allLogits = Tensor(shape: [tokens.count, config.vocabularySize]) }
        if outputs.contains(.hiddenStates) { result.hiddenStates = Tensor(shape: [tokens.count, hidden]) }
        var done = 0
        while done < tokens.count {
            let chunk = Array(tokens[done..<min(tokens.count, done + context.maxBatch)])
            let normed = forwardChunk(chunk, context)   // [chunk, hidden], after the final norm
            if let h = result.hiddenStates { (h.data + done * hidden).update(from: normed, count: chunk.count * hidden) }
            if let all = result.allLogits {
                matmul(output, normed, batch: chunk.count, all.data + done * config.vocabularySize)
            }
            done += chunk.count
            if done == tokens.count, outputs.contains(.lastLogits) {
                let logits = context.scratch.logits
                matmul(output, normed + (chunk.count - 1) * hidden, batch: 1, logits.data)
                result.lastLogits = logits.scalars
            }
        }
        return result
    }

    /// One chunk through every layer; returns the final-normed hidden states in scratch.
    private func forwardChunk(_ tokens: [Int], _ ctx: LlamaContext) -> UnsafeMutablePointer<Float> {
        let c = config, s = ctx.scratch, n = tokens.count
        let hidden = c.hiddenSize, qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim
        let x = s.x.data, xb = s.xb.data
        for (t, id) in tokens.enumerated() {
            dequantizeRow(tokenEmbedding.type, tokenEmbedding.row(id), x + t * hidden, count: hidden)
        }
        let start = ctx.length
        for (l, layer) in layers.enumerated() {
            rmsNorm(x, layer.attentionNorm.data, xb, rows: n, dim: hidden, eps: c.rmsNormEps)
            matmul(layer.wq, xb, batch: n, s.q.data)
            matmul(layer.wk, xb, batch: n, s.k.data)
            matmul(layer.wv, xb, batch: n, s.v.data)
            for t in 0..<n {
                ctx.rope.apply(s.q.data + t * qDim, heads: c.headCount, position: start + t, layout: format.ropeLayout)
                ctx.rope.apply(s.k.data + t * kvDim, heads: c.kvHeadCount, position: start + t, layout: format.ropeLayout)
            }
            ctx.store(keys: s.k.data, values: s.v.data, layer: l, at: start, count: n * kvDim)
            attention(layer: l, tokens: n, start: start, ctx)
            matmul(layer.wo, s.attention.data, batch: n, xb)
            addInPlace(x, xb, count: n * hidden)

            rmsNorm(x, layer.ffnNorm.data, xb, rows: n, dim: hidden, eps: c.rmsNormEps)
            matmul(layer.gate, xb, batch: n, s.gate.data)
            matmul(layer.up, xb, batch: n, s.up.data)
            siluMul(s.gate.data, s.up.data, count: n * c.intermediateSize)
            matmul(layer.down, s.gate.data, batch: n, xb)
            addInPlace(x, xb, count: n * hidden)
        }
        ctx.tokens.append(contentsOf: tokens)
        rmsNorm(x, outputNorm.data, xb, rows: n, dim: hidden, eps: c.rmsNormEps)
        return xb
    }

    /// Causal grouped-query attention of the chunk's queries over every cached position up to their
    /// own; each (head, query) pair is independent, so pairs are spread over the threads.
    private func attention(layer l: Int, tokens n: Int, start: Int, _ ctx: LlamaContext) {
        let c = config, hd = c.headDim
        let qDim = c.headCount * hd, kvDim = c.kvHeadCount * hd
        let group = c.headCount / c.kvHeadCount
        let scale = 1 / Float(hd).squareRoot()
        let q = ctx.scratch.q.data, out = ctx.scratch.attention.data
        let half = ctx.precision == .f16
        let keys = ctx.keys[l], values = ctx.values[l]
        Parallel.forRanges(c.headCount * n, grain: 1) { range in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: start + n + hd)
            defer { scores.deallocate() }
            let qh = scores + start + n
            for pair in range {
                let h = pair % c.headCount, t = pair / c.headCount
                let kvHead = h / group, visible = start + t + 1
                let o = out + t * qDim + h * hd
                o.update(repeating: 0, count: hd)
                if half {
                    // The query rounded to f16 as llama.cpp rounds it for its f16 K·Q product.
                    let qv = q + t * qDim + h * hd
                    for i in 0..<hd { qh[i] = Float(Float16(qv[i])) }
                    let k = keys.assumingMemoryBound(to: Float16.self), v = values.assumingMemoryBound(to: Float16.self)
                    for j in 0..<visible { scores[j] = dot(qh, half: k + j * kvDim + kvHead * hd, hd) * scale }
                    softmax(scores, count: visible)
                    for j in 0..<visible { axpy(scores[j], half: v + j * kvDim + kvHead * hd, o, hd) }
                } else {
                    let k = keys.assumingMemoryBound(to: Float.self), v = values.assumingMemoryBound(to: Float.self)
                    for j in 0..<visible { scores[j] = dot(q + t * qDim + h * hd, k + j * kvDim + kvHead * hd, hd) * scale }
                    softmax(scores, count: visible)
                    for j in 0..<visible { axpy(scores[j], v + j * kvDim + kvHead * hd, o, hd) }
                }
            }
        }
    }
}

public enum KVCachePrecision: String, Sendable { case f16, f32 }

/// A conversation's running state, as llama.cpp's llama_context: the KV cache (preallocated for the
/// whole context), the RoPE tables, and scratch buffers sized once for the largest chunk, so the token
/// loop never allocates.
public final class LlamaContext: @unchecked Sendable {
    public let contextLength: Int
    public let maxBatch: Int
    /// The tokens whose keys and values fill the cache, position by position.
    public internal(set) var tokens: [Int] = []
    public var length: Int { tokens.count }
    public let precision: KVCachePrecision
    /// kvHeads * headDim: one position's keys (or values).
    let rowWidth: Int
    let keys: [UnsafeMutableRawPointer]    // per layer [contextLength, kvHeads * headDim], after RoPE
    let values: [UnsafeMutableRawPointer]  // per layer [contextLength, kvHeads * headDim]
    let rope: RoPETable
    let scratch: Scratch

    struct Scratch {
        let x, xb, q, k, v, attention, gate, up: Tensor   // [maxBatch, …]
        let logits: Tensor                          // [vocab]
    }

    init(model: LlamaModel, contextLength: Int, maxBatch: Int, precision: KVCachePrecision) {
        let c = model.config
        self.contextLength = contextLength
        self.maxBatch = maxBatch
        self.precision = precision
        let kvDim = c.kvHeadCount * c.headDim
        rowWidth = kvDim
        let bytes = contextLength * kvDim * (precision == .f16 ? 2 : 4)
        // calloc: pages the cache never reaches are never touched, so a long context costs memory
        // only as it fills.
        keys = (0..<c.layerCount).map { _ in calloc(bytes, 1)! }
        values = (0..<c.layerCount).map { _ in calloc(bytes, 1)! }
        rope = RoPETable(headDim: c.headDim, base: c.ropeTheta, maxPositions: contextLength,
                         positionScale: c.positionScale, frequencyFactors: model.ropeFrequencyFactors)
        let qDim = c.headCount * c.headDim
        scratch = Scratch(x: Tensor(shape: [maxBatch, c.hiddenSize]), xb: Tensor(shape: [maxBatch, max(c.hiddenSize, qDim)]),
                          q: Tensor(shape: [maxBatch, qDim]), k: Tensor(shape: [maxBatch, kvDim]),
                          v: Tensor(shape: [maxBatch, kvDim]), attention: Tensor(shape: [maxBatch, qDim]),
                          gate: Tensor(shape: [maxBatch, c.intermediateSize]), up: Tensor(shape: [maxBatch, c.intermediateSize]),
                          logits: Tensor(shape: [c.vocabularySize]))
    }

    deinit {
        keys.forEach { free($0) }
        values.forEach { free($0) }
    }

    func store(keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, layer: Int, at position: Int, count: Int) {
        switch precision {
        case .f16:
            convertFloatToHalf(k, keys[layer].assumingMemoryBound(to: Float16.self) + position * rowWidth, count: count)
            convertFloatToHalf(v, values[layer].assumingMemoryBound(to: Float16.self) + position * rowWidth, count: count)
        case .f32:
            (keys[layer].assumingMemoryBound(to: Float.self) + position * rowWidth).update(from: k, count: count)
            (values[layer].assumingMemoryBound(to: Float.self) + position * rowWidth).update(from: v, count: count)
        }
    }

    /// Forgets positions from `newLength` on, so a new prompt that shares a prefix with the cached
    /// one only computes its new tokens.
    public func truncate(to newLength: Int) {
        tokens.removeLast(max(0, tokens.count - max(0, newLength)))
    }
}
