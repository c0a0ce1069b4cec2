// Port of transformers/models/clip/modeling_clip.py `CLIPTextModel` (transformers 5.24.0), text tower only.
import Foundation
import Tensors
import WeightIO

/// CLIP's text transformer: token + position embeddings, pre-LayerNorm causal self-attention blocks with a
/// quick-GELU (or GELU) MLP, and a final LayerNorm. SD v1 conditions on the last hidden state [77, 768];
/// CLIP similarity uses the pooled output, the end token's state.
public final class CLIPTextModel {
    public let config: CLIPTextConfiguration
    let tokenEmbedding: WeightMatrix      // [vocab, hidden]
    let positionEmbedding: Tensor         // [maxPositions, hidden]
    let encoder: CLIPEncoder
    let finalLayerNorm: LayerNorm

    /// Loads the weights of a `CLIPTextModel`; names may carry transformers' "text_model." prefix (SD v1.4's
    /// files) or not (transformers 5 saves the text model without it).
    public convenience init(directory: URL, variant: String? = nil) throws {
        let config = try decodeConfig(CLIPTextConfiguration.self, at: directory.appendingPathComponent("config.json"))
        let store = try openWeights(path: directory.path, variant: variant)
        let prefix = store.contains("text_model.final_layer_norm.weight") ? "text_model." : ""
        try self.init(config: config, weights: Weights(store, prefix: prefix))
    }

    init(config c: CLIPTextConfiguration, weights w: Weights) throws {
        config = c
        encoder = try CLIPEncoder(w, component: "CLIPTextModel", layers: c.numHiddenLayers, hiddenSize: c.hiddenSize,
                                  intermediateSize: c.intermediateSize, heads: c.numAttentionHeads,
                                  hiddenAct: c.hiddenAct, layerNormEps: c.layerNormEps)
        let d = c.hiddenSize
        tokenEmbedding = try w.matrix("embeddings.token_embedding.weight", [c.vocabSize, d])
        positionEmbedding = try w.tensor("embeddings.position_embedding.weight", [c.maxPositionEmbeddings, d])
        finalLayerNorm = try LayerNorm(w, "final_layer_norm", dim: d, eps: c.layerNormEps)
    }

    /// The last hidden state [ids.count, hidden] of one token sequence (causal mask, no padding mask, as the
    /// SD pipelines call it).
    public func callAsFunction(_ ids: [Int]) throws -> Tensor {
        let n = ids.count, d = config.hiddenSize
        guard n > 0, n <= config.maxPositionEmbeddings else {
            throw DiffusionError.badInput("CLIP text encoder takes 1...\(config.maxPositionEmbeddings) tokens, got \(n)")
        }
        if let bad = ids.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw DiffusionError.badInput("token id \(bad) outside the text encoder's vocabulary of \(config.vocabSize)")
        }
        let x = Tensor(shape: [n, d])
        for (i, id) in ids.enumerated() {
            dequantizeRow(tokenEmbedding.type, tokenEmbedding.row(id), x.data + i * d, count: d)
            addInPlace(x.data + i * d, positionEmbedding.data + i * d, count: d)
        }
        return finalLayerNorm(encoder(x, rows: n, causal: true), rows: n)
    }

    /// The position whose final state is CLIP's pooled text output: the end-of-text token. As transformers:
    /// a config whose eos_token_id is 2 (written before transformers PR #24773; openai/clip-vit-large-patch14's
    /// is) takes the argmax of the ids, which is <|endoftext|> because it is the vocabulary's last id; any other
    /// config takes the first id equal to eos_token_id.
    public func pooledPosition(_ ids: [Int]) throws -> Int {
        if config.eosTokenId == 2 {
            guard let top = ids.max() else { throw DiffusionError.badInput("CLIP text encoder got no tokens") }
            return ids.firstIndex(of: top)!
        }
        guard let eos = ids.firstIndex(of: config.eosTokenId) else {
            throw DiffusionError.badInput("CLIP token ids hold no end-of-text token (id \(config.eosTokenId)) to pool at")
        }
        return eos
    }

    /// CLIPTextModel's pooler_output [hidden]: the final-LayerNormed state at `pooledPosition`. The mask is
    /// causal, so that state depends only on the tokens up to it: the tokens after it (padding) are not run.
    public func pooledOutput(_ ids: [Int]) throws -> [Float] {
        let p = try pooledPosition(ids)
        let hidden = try self(Array(ids[...p]))
        let d = config.hiddenSize
        return Array(UnsafeBufferPointer(start: hidden.data + p * d, count: d))
    }
}
