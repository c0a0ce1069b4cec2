// Port of transformers/models/clip/modeling_clip.py `CLIPTextModel` (transformers 5.24.0), text tower only.
import Foundation
import Tensors
import WeightIO

/// CLIP's text transformer: token + position embeddings, pre-LayerNorm causal self-attention blocks with a
/// quick-GELU (or GELU) MLP, and a final LayerNorm. SD v1 conditions on the last hidden state [77, 768].
public final class CLIPTextModel {
    public let config: CLIPTextConfiguration
    let tokenEmbedding: WeightMatrix      // [vocab, hidden]
    let positionEmbedding: Tensor         // [maxPositions, hidden]
    let layers: [EncoderLayer]
    let finalLayerNorm: LayerNorm
    let attentionScratch = AttentionScratch()

    struct EncoderLayer {
        let layerNorm1: LayerNorm, layerNorm2: LayerNorm
        let q: Linear, k: Linear, v: Linear, out: Linear
        let fc1: Linear, fc2: Linear
    }

    /// Loads the weights of a `CLIPTextModel`; names may carry transformers' "text_model." prefix (SD v1.4's
    /// files) or not (transformers 5 saves the text model without it).
    public convenience init(directory: URL, variant: String? = nil) throws {
        let config = try decodeConfig(CLIPTextConfiguration.self, at: directory.appendingPathComponent("config.json"))
        let store = try openWeights(path: directory.path, variant: variant)
        let prefix = store.contains("text_model.final_layer_norm.weight") ? "text_model." : ""
        try self.init(config: config, weights: Weights(store, prefix: prefix))
    }

    init(config c: CLIPTextConfiguration, weights w: Weights) throws {
        guard ["quick_gelu", "gelu"].contains(c.hiddenAct) else {
            throw DiffusionError.unsupported(component: "CLIPTextModel", key: "hidden_act", value: c.hiddenAct)
        }
        guard c.hiddenSize > 0, c.numAttentionHeads > 0, c.hiddenSize % c.numAttentionHeads == 0 else {
            throw DiffusionError.unsupported(component: "CLIPTextModel", key: "num_attention_heads",
                                             value: "\(c.numAttentionHeads) for hidden_size \(c.hiddenSize)")
        }
        config = c
        let d = c.hiddenSize
        tokenEmbedding = try w.matrix("embeddings.token_embedding.weight", [c.vocabSize, d])
        positionEmbedding = try w.tensor("embeddings.position_embedding.weight", [c.maxPositionEmbeddings, d])
        layers = try (0..<c.numHiddenLayers).map { i in
            let l = w.scoped("encoder.layers.\(i).")
            return EncoderLayer(
                layerNorm1: try LayerNorm(l, "layer_norm1", dim: d, eps: c.layerNormEps),
                layerNorm2: try LayerNorm(l, "layer_norm2", dim: d, eps: c.layerNormEps),
                q: try Linear(l, "self_attn.q_proj", in: d, out: d), k: try Linear(l, "self_attn.k_proj", in: d, out: d),
                v: try Linear(l, "self_attn.v_proj", in: d, out: d), out: try Linear(l, "self_attn.out_proj", in: d, out: d),
                fc1: try Linear(l, "mlp.fc1", in: d, out: c.intermediateSize),
                fc2: try Linear(l, "mlp.fc2", in: c.intermediateSize, out: d))
        }
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
        var x = Tensor(shape: [n, d])
        for (i, id) in ids.enumerated() {
            dequantizeRow(tokenEmbedding.type, tokenEmbedding.row(id), x.data + i * d, count: d)
            addInPlace(x.data + i * d, positionEmbedding.data + i * d, count: d)
        }
        let heads = config.numAttentionHeads, headDim = d / heads
        for layer in layers {
            let h = layer.layerNorm1(x, rows: n)
            let q = layer.q(h, rows: n), k = layer.k(h, rows: n), v = layer.v(h, rows: n)
            let a = Tensor(shape: [n, d])
            attention(q: q.data, qStride: d, k: k.data, kStride: d, v: v.data, vStride: d, out: a.data, outStride: d,
                      queries: n, keys: n, heads: heads, headDim: headDim, scale: 1 / Float(headDim).squareRoot(),
                      causal: true, scratch: attentionScratch)
            x = added(x, layer.out(a, rows: n))
            let m = layer.fc1(layer.layerNorm2(x, rows: n), rows: n)
            if config.hiddenAct == "quick_gelu" { quickGELU(m.data, count: m.count) } else { gelu(m.data, count: m.count) }
            x = added(x, layer.fc2(m, rows: n))
        }
        return finalLayerNorm(x, rows: n)
    }
}
