// Port of diffusers/src/diffusers/models/embeddings.py `get_timestep_embedding`, `Timesteps`,
// `TimestepEmbedding` (diffusers 0.42.1).
import Foundation
import Tensors

/// Sinusoidal embedding of a (possibly fractional) timestep, computed in float32 in torch's order:
/// freq_i = exp(−ln(10000)·i / (half − shift)), then [sin(t·freq), cos(t·freq)], halves swapped with
/// `flip_sin_to_cos` (SD v1: cos first).
func timestepEmbedding(_ t: Double, dim: Int, flipSinToCos: Bool, shift: Int) -> [Float] {
    let half = dim / 2
    let logPeriod = Float(-log(10000.0))
    var out = [Float](repeating: 0, count: dim)
    let tf = Float(t)
    for i in 0..<half {
        let freq = expf(logPeriod * Float(i) / Float(half - shift))
        let arg = tf * freq
        let (s, c) = (sinf(arg), cosf(arg))
        if flipSinToCos { out[i] = c; out[half + i] = s } else { out[i] = s; out[half + i] = c }
    }
    return out
}

/// TimestepEmbedding: linear → SiLU → linear, [B, c0] → [B, 4·c0].
struct TimestepEmbedding {
    let linear1: Linear, linear2: Linear

    init(_ w: Weights, in inChannels: Int, out outChannels: Int) throws {
        linear1 = try Linear(w, "linear_1", in: inChannels, out: outChannels)
        linear2 = try Linear(w, "linear_2", in: outChannels, out: outChannels)
    }

    func callAsFunction(_ x: Tensor, rows: Int) -> Tensor {
        let h = linear1(x, rows: rows)
        silu(h.data, count: h.count)
        return linear2(h, rows: rows)
    }
}
