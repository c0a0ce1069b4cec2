// Port of transformers/models/clip/modeling_clip.py `CLIPEncoder` and `CLIPEncoderLayer` (transformers 5.24.0).
import Foundation
import Tensors

/// The transformer both CLIP towers share: pre-LayerNorm blocks of multi-head self-attention and a
/// quick-GELU (or GELU) MLP, each added back to the residual stream. The text tower runs it with a causal
/// mask, the vision tower without one.
struct CLIPEncoder {
    struct Layer {
        let layerNorm1: LayerNorm, layerNorm2: LayerNorm
        let q: Linear, k: Linear, v: Linear, out: Linear   // [hidden, hidden] each
        let fc1: Linear                                    // [intermediate, hidden]
        let fc2: Linear                                    // [hidden, intermediate]
    }

    let layers: [Layer]
    let hiddenSize: Int
    let heads: Int
    let quickGELU: Bool
    let scratch = AttentionScratch()

    /// `w` is scoped to the tower ("text_model.", "vision_model."); the layers are "encoder.layers.N.".
    /// `component` names the tower in errors.
    init(_ w: Weights, component: String, layers count: Int, hiddenSize d: Int, intermediateSize: Int, heads: Int,
         hiddenAct: String, layerNormEps eps: Float) throws {
        guard ["quick_gelu", "gelu"].contains(hiddenAct) else {
            throw DiffusionError.unsupported(component: component, key: "hidden_act", value: hiddenAct)
        }
        guard d > 0, heads > 0, d % heads == 0 else {
            throw DiffusionError.unsupported(component: component, key: "num_attention_heads",
                                             value: "\(heads) for hidden_size \(d)")
        }
        guard count >= 0, intermediateSize > 0 else {
            throw DiffusionError.unsupported(component: component, key: "num_hidden_layers / intermediate_size",
                                             value: "\(count) / \(intermediateSize)")
        }
        layers = try (0..<count).map { i in
            let l = w.scoped("encoder.layers.\(i).")
            return Layer(
                layerNorm1: try LayerNorm(l, "layer_norm1", dim: d, eps: eps),
                layerNorm2: try LayerNorm(l, "layer_norm2", dim: d, eps: eps),
                q: try Linear(l, "self_attn.q_proj", in: d, out: d), k: try Linear(l, "self_attn.k_proj", in: d, out: d),
                v: try Linear(l, "self_attn.v_proj", in: d, out: d), out: try Linear(l, "self_attn.out_proj", in: d, out: d),
                fc1: try Linear(l, "mlp.fc1", in: d, out: intermediateSize),
                fc2: try Linear(l, "mlp.fc2", in: intermediateSize, out: d))
        }
        hiddenSize = d
        self.heads = heads
        quickGELU = hiddenAct == "quick_gelu"
    }

    /// x [rows, hidden] (embeddings) → the last layer's output [rows, hidden], before any final LayerNorm.
    func callAsFunction(_ input: Tensor, rows n: Int, causal: Bool) -> Tensor {
        let d = hiddenSize, headDim = d / heads
        var x = input
        for layer in layers {
            let h = layer.layerNorm1(x, rows: n)
            let q = layer.q(h, rows: n), k = layer.k(h, rows: n), v = layer.v(h, rows: n)
            let a = Tensor(shape: [n, d])
            attention(q: q.data, qStride: d, k: k.data, kStride: d, v: v.data, vStride: d, out: a.data, outStride: d,
                      queries: n, keys: n, heads: heads, headDim: headDim, scale: 1 / Float(headDim).squareRoot(),
                      causal: causal, scratch: scratch)
            x = added(x, layer.out(a, rows: n))
            let m = layer.fc1(layer.layerNorm2(x, rows: n), rows: n)
            if quickGELU { Tensors.quickGELU(m.data, count: m.count) } else { gelu(m.data, count: m.count) }
            x = added(x, layer.fc2(m, rows: n))
        }
        return x
    }
}
