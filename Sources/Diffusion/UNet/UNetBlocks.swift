// Port of diffusers/src/diffusers/models/{resnet.py, attention.py, attention_processor.py, downsampling.py,
// upsampling.py, transformers/transformer_2d.py} (diffusers 0.42.1): the blocks SD v1's UNet and VAE share.
import Foundation
import Tensors

/// Per-model scratch for the kernels, so a denoising loop reuses its im2col and score buffers.
final class ModuleScratch {
    let conv = ConvScratch()
    let attention = AttentionScratch()
    func release() { conv.release(); attention.release() }
}

/// ResnetBlock2D: GroupNorm → SiLU → conv 3×3 → (+ time projection) → GroupNorm → SiLU → conv 3×3, plus the
/// input (through a 1×1 conv when the channel count changes), divided by `output_scale_factor`.
struct ResnetBlock2D {
    let norm1: GroupNorm, conv1: Conv2d
    let timeEmbProj: Linear?
    let norm2: GroupNorm, conv2: Conv2d
    let shortcut: Conv2d?
    let outputScale: Float

    init(_ w: Weights, in inChannels: Int, out outChannels: Int, timeChannels: Int?, groups: Int, eps: Float,
         outputScale: Float = 1) throws {
        norm1 = try GroupNorm(w, "norm1", channels: inChannels, groups: groups, eps: eps)
        conv1 = try Conv2d(w, "conv1", in: inChannels, out: outChannels, kernel: 3, padding: 1)
        timeEmbProj = try timeChannels.map { try Linear(w, "time_emb_proj", in: $0, out: outChannels) }
        norm2 = try GroupNorm(w, "norm2", channels: outChannels, groups: groups, eps: eps)
        conv2 = try Conv2d(w, "conv2", in: outChannels, out: outChannels, kernel: 3, padding: 1)
        shortcut = inChannels != outChannels ? try Conv2d(w, "conv_shortcut", in: inChannels, out: outChannels, kernel: 1) : nil
        self.outputScale = outputScale
    }

    /// x [B, I, H, W]; `timeActivated` is SiLU(temb) [B, timeChannels], computed once per UNet call.
    func callAsFunction(_ x: Tensor, timeActivated: Tensor?, scratch: ModuleScratch) -> Tensor {
        var h = conv1(norm1(x, silu: true), scratch: scratch.conv)
        if let proj = timeEmbProj, let t = timeActivated {
            let batch = x.shape[0], c = h.shape[1], spatial = h.shape[2] * h.shape[3]
            let tp = proj(t, rows: batch)
            for b in 0..<batch {
                for ch in 0..<c {
                    let v = tp[b * c + ch], p = h.data + (b * c + ch) * spatial
                    for i in 0..<spatial { p[i] += v }
                }
            }
        }
        h = conv2(norm2(h, silu: true), scratch: scratch.conv)
        // h is this block's own tensor: the residual is added into it rather than into a fresh copy
        // (at the VAE's 512×512 level each copy is 128 MiB).
        let skip = shortcut.map { $0(x, scratch: scratch.conv) } ?? x
        addInPlace(h.data, skip.data, count: h.count)
        if outputScale != 1 {
            let inv = 1 / outputScale
            for i in 0..<h.count { h[i] *= inv }
        }
        return h
    }
}

/// diffusers' `Attention` with the default processor: q from the hidden states, k and v from the context
/// (the hidden states themselves for self-attention), heads of `headDim`, scale 1/√headDim, then `to_out.0`.
struct Attention {
    let q: Linear, k: Linear, v: Linear, out: Linear
    let heads: Int, headDim: Int

    init(_ w: Weights, queryDim: Int, contextDim: Int, heads: Int, headDim: Int, bias: Bool) throws {
        let inner = heads * headDim
        q = try Linear(w, "to_q", in: queryDim, out: inner, bias: bias)
        k = try Linear(w, "to_k", in: contextDim, out: inner, bias: bias)
        v = try Linear(w, "to_v", in: contextDim, out: inner, bias: bias)
        out = try Linear(w, "to_out.0", in: inner, out: queryDim)
        self.heads = heads
        self.headDim = headDim
    }

    /// x [B, N, queryDim], context [B, L, contextDim] → [B, N, queryDim].
    func callAsFunction(_ x: Tensor, batch: Int, tokens n: Int, context: Tensor, contextTokens l: Int,
                        scratch: ModuleScratch) -> Tensor {
        let inner = heads * headDim
        let qs = q(x, rows: batch * n), ks = k(context, rows: batch * l), vs = v(context, rows: batch * l)
        let a = Tensor(shape: [batch * n, inner])
        for b in 0..<batch {
            attention(q: qs.data + b * n * inner, qStride: inner, k: ks.data + b * l * inner, kStride: inner,
                      v: vs.data + b * l * inner, vStride: inner, out: a.data + b * n * inner, outStride: inner,
                      queries: n, keys: l, heads: heads, headDim: headDim, scale: 1 / Float(headDim).squareRoot(),
                      scratch: scratch.attention)
        }
        return out(a, rows: batch * n)
    }
}

/// BasicTransformerBlock: pre-LayerNorm self-attention, cross-attention on the text states, GEGLU feed-forward,
/// each added back to the residual stream.
struct BasicTransformerBlock {
    let norm1: LayerNorm, attn1: Attention
    let norm2: LayerNorm, attn2: Attention
    let norm3: LayerNorm, ffIn: Linear, ffOut: Linear
    let ffInner: Int

    init(_ w: Weights, dim: Int, heads: Int, headDim: Int, crossDim: Int) throws {
        norm1 = try LayerNorm(w, "norm1", dim: dim, eps: 1e-5)
        attn1 = try Attention(w.scoped("attn1."), queryDim: dim, contextDim: dim, heads: heads, headDim: headDim, bias: false)
        norm2 = try LayerNorm(w, "norm2", dim: dim, eps: 1e-5)
        attn2 = try Attention(w.scoped("attn2."), queryDim: dim, contextDim: crossDim, heads: heads, headDim: headDim, bias: false)
        norm3 = try LayerNorm(w, "norm3", dim: dim, eps: 1e-5)
        ffInner = 4 * dim
        ffIn = try Linear(w, "ff.net.0.proj", in: dim, out: 2 * ffInner)
        ffOut = try Linear(w, "ff.net.2", in: ffInner, out: dim)
    }

    /// x [B, N, dim] (updated and returned), context [B, L, crossDim].
    func callAsFunction(_ x: Tensor, batch: Int, tokens n: Int, context: Tensor, contextTokens l: Int,
                        scratch: ModuleScratch) -> Tensor {
        let rows = batch * n
        // Each sublayer's output is a fresh tensor; the residual stream is added into it.
        let h1 = norm1(x, rows: rows)
        let y = attn1(h1, batch: batch, tokens: n, context: h1, contextTokens: n, scratch: scratch)
        addInPlace(y.data, x.data, count: y.count)
        let z = attn2(norm2(y, rows: rows), batch: batch, tokens: n, context: context, contextTokens: l, scratch: scratch)
        addInPlace(z.data, y.data, count: z.count)
        let projected = ffIn(norm3(z, rows: rows), rows: rows)
        let gated = Tensor(shape: [rows, ffInner])
        geglu(projected.data, rows: rows, inner: ffInner, gated.data)
        let out = ffOut(gated, rows: rows)
        addInPlace(out.data, z.data, count: out.count)
        return out
    }
}

/// Transformer2DModel for spatial inputs: GroupNorm, proj_in (1×1 conv, or linear with
/// `use_linear_projection`), transformer blocks over the H·W tokens, proj_out, plus the input.
struct Transformer2DModel {
    let norm: GroupNorm
    let projInConv: Conv2d?, projInLinear: Linear?
    let blocks: [BasicTransformerBlock]
    let projOutConv: Conv2d?, projOutLinear: Linear?
    let channels: Int

    init(_ w: Weights, channels: Int, heads: Int, crossDim: Int, layers: Int, groups: Int, linearProjection: Bool) throws {
        self.channels = channels
        let headDim = channels / heads
        norm = try GroupNorm(w, "norm", channels: channels, groups: groups, eps: 1e-6)
        if linearProjection {
            projInLinear = try Linear(w, "proj_in", in: channels, out: channels)
            projOutLinear = try Linear(w, "proj_out", in: channels, out: channels)
            projInConv = nil; projOutConv = nil
        } else {
            projInConv = try Conv2d(w, "proj_in", in: channels, out: channels, kernel: 1)
            projOutConv = try Conv2d(w, "proj_out", in: channels, out: channels, kernel: 1)
            projInLinear = nil; projOutLinear = nil
        }
        blocks = try (0..<layers).map {
            try BasicTransformerBlock(w.scoped("transformer_blocks.\($0)."), dim: channels, heads: heads, headDim: headDim, crossDim: crossDim)
        }
    }

    /// x [B, C, H, W], context [B, L, crossDim].
    func callAsFunction(_ x: Tensor, context: Tensor, scratch: ModuleScratch) -> Tensor {
        let batch = x.shape[0], c = channels, n = x.shape[2] * x.shape[3], l = context.shape[1]
        var h = norm(x)
        var tokens: Tensor
        if let conv = projInConv {
            h = conv(h, scratch: scratch.conv)
            tokens = transposeLastTwo(h, batch: batch, rows: c, cols: n)
        } else {
            tokens = projInLinear!(transposeLastTwo(h, batch: batch, rows: c, cols: n), rows: batch * n)
        }
        for block in blocks {
            tokens = block(tokens, batch: batch, tokens: n, context: context, contextTokens: l, scratch: scratch)
        }
        if let conv = projOutConv {
            h = conv(transposeLastTwo(tokens, batch: batch, rows: n, cols: c).reshaped(x.shape), scratch: scratch.conv)
        } else {
            h = transposeLastTwo(projOutLinear!(tokens, rows: batch * n), batch: batch, rows: n, cols: c).reshaped(x.shape)
        }
        addInPlace(h.data, x.data, count: h.count)
        return h
    }
}

/// Downsample2D with a convolution: 3×3 stride 2. The UNet pads 1 on every side; the VAE encoder
/// (padding 0) pads one row and column on the bottom and right, as its F.pad(0, 1, 0, 1) does.
struct Downsample2D {
    let conv: Conv2d

    init(_ w: Weights, channels: Int, padding: Int) throws {
        let g = padding == 0
            ? Conv2DGeometry(inChannels: channels, outChannels: channels, kernelHeight: 3, kernelWidth: 3, stride: 2,
                             padTop: 0, padLeft: 0, padBottom: 1, padRight: 1)
            : Conv2DGeometry(inChannels: channels, outChannels: channels, kernel: 3, stride: 2, padding: padding)
        conv = try Conv2d(w, "conv", geometry: g)
    }

    func callAsFunction(_ x: Tensor, scratch: ModuleScratch) -> Tensor { conv(x, scratch: scratch.conv) }
}

/// Upsample2D: nearest-neighbour resize (×2, or to the skip connection's size) then a 3×3 convolution.
struct Upsample2D {
    let conv: Conv2d

    init(_ w: Weights, channels: Int) throws {
        conv = try Conv2d(w, "conv", in: channels, out: channels, kernel: 3, padding: 1)
    }

    func callAsFunction(_ x: Tensor, height: Int, width: Int, scratch: ModuleScratch) -> Tensor {
        let up = Tensor(shape: [x.shape[0], x.shape[1], height, width])
        upsampleNearest(x.data, planes: x.shape[0] * x.shape[1], height: x.shape[2], width: x.shape[3], up.data,
                        outHeight: height, outWidth: width)
        return conv(up, scratch: scratch.conv)
    }
}

/// torch.cat([a, b], dim=1) for NCHW tensors of the same batch and spatial size.
func concatChannels(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape[0] == b.shape[0] && a.shape[2...] == b.shape[2...], "cat \(a.shape) with \(b.shape)")
    let batch = a.shape[0], ca = a.shape[1], cb = b.shape[1], spatial = a.shape[2] * a.shape[3]
    let y = Tensor(shape: [batch, ca + cb, a.shape[2], a.shape[3]])
    for i in 0..<batch {
        (y.data + i * (ca + cb) * spatial).update(from: a.data + i * ca * spatial, count: ca * spatial)
        (y.data + (i * (ca + cb) + ca) * spatial).update(from: b.data + i * cb * spatial, count: cb * spatial)
    }
    return y
}
