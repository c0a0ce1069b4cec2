// Port of diffusers/src/diffusers/models/autoencoders/{autoencoder_kl.py, vae.py} (diffusers 0.42.1):
// the KL autoencoder of SD v1 with its Encoder and Decoder.
import Foundation
import Tensors
import WeightIO

/// The VAE: `encode` maps images in [−1, 1] to the latent distribution (mean, log-variance), `decode` maps
/// latents back to images. Neither applies `scaling_factor`; the pipeline does, as diffusers' does.
public final class AutoencoderKL {
    public let config: AutoencoderConfiguration
    let encoder: Encoder?
    let decoder: Decoder
    let quantConv: Conv2d?
    let postQuantConv: Conv2d?
    let scratch = ModuleScratch()

    /// UNetMidBlock2D without time embedding: resnet, single-head self-attention with GroupNorm, resnet.
    struct MidBlock {
        let resnet0: ResnetBlock2D, resnet1: ResnetBlock2D
        let attentionNorm: GroupNorm?
        let attention: Attention?

        init(_ w: Weights, channels: Int, groups: Int, addAttention: Bool) throws {
            resnet0 = try ResnetBlock2D(w.scoped("resnets.0."), in: channels, out: channels, timeChannels: nil, groups: groups, eps: 1e-6)
            resnet1 = try ResnetBlock2D(w.scoped("resnets.1."), in: channels, out: channels, timeChannels: nil, groups: groups, eps: 1e-6)
            if addAttention {
                let a = w.scoped("attentions.0.")
                attentionNorm = try GroupNorm(a, "group_norm", channels: channels, groups: groups, eps: 1e-6)
                attention = try Attention(a, queryDim: channels, contextDim: channels, heads: 1, headDim: channels, bias: true)
            } else {
                attentionNorm = nil
                attention = nil
            }
        }

        func callAsFunction(_ x: Tensor, scratch: ModuleScratch) -> Tensor {
            var h = resnet0(x, timeActivated: nil, scratch: scratch)
            if let norm = attentionNorm, let attention {
                let batch = h.shape[0], c = h.shape[1], n = h.shape[2] * h.shape[3]
                let tokens = transposeLastTwo(norm(h), batch: batch, rows: c, cols: n)
                let a = attention(tokens, batch: batch, tokens: n, context: tokens, contextTokens: n, scratch: scratch)
                h = added(transposeLastTwo(a, batch: batch, rows: n, cols: c).reshaped(h.shape), h)
            }
            return resnet1(h, timeActivated: nil, scratch: scratch)
        }
    }

    struct Encoder {
        let convIn: Conv2d
        let blocks: [(resnets: [ResnetBlock2D], down: Downsample2D?)]
        let mid: MidBlock
        let normOut: GroupNorm
        let convOut: Conv2d

        init(_ w: Weights, _ c: AutoencoderConfiguration) throws {
            let ch = c.blockOutChannels, groups = c.normNumGroups
            convIn = try Conv2d(w, "conv_in", in: c.inChannels, out: ch[0], kernel: 3, padding: 1)
            var out = ch[0]
            blocks = try ch.indices.map { i in
                let input = out
                out = ch[i]
                let b = w.scoped("down_blocks.\(i).")
                let resnets = try (0..<c.layersPerBlock).map { j in
                    try ResnetBlock2D(b.scoped("resnets.\(j)."), in: j == 0 ? input : out, out: out, timeChannels: nil, groups: groups, eps: 1e-6)
                }
                let down = i < ch.count - 1 ? try Downsample2D(b.scoped("downsamplers.0."), channels: out, padding: 0) : nil
                return (resnets, down)
            }
            mid = try MidBlock(w.scoped("mid_block."), channels: ch.last!, groups: groups, addAttention: c.midBlockAddAttention)
            normOut = try GroupNorm(w, "conv_norm_out", channels: ch.last!, groups: groups, eps: 1e-6)
            convOut = try Conv2d(w, "conv_out", in: ch.last!, out: 2 * c.latentChannels, kernel: 3, padding: 1)
        }

        func callAsFunction(_ x: Tensor, scratch: ModuleScratch) -> Tensor {
            var h = convIn(x, scratch: scratch.conv)
            for block in blocks {
                for r in block.resnets { h = r(h, timeActivated: nil, scratch: scratch) }
                if let d = block.down { h = d(h, scratch: scratch) }
            }
            h = mid(h, scratch: scratch)
            return convOut(normOut(h, silu: true), scratch: scratch.conv)
        }
    }

    struct Decoder {
        let convIn: Conv2d
        let mid: MidBlock
        let blocks: [(resnets: [ResnetBlock2D], up: Upsample2D?)]
        let normOut: GroupNorm
        let convOut: Conv2d

        init(_ w: Weights, _ c: AutoencoderConfiguration) throws {
            let reversed = Array(c.blockOutChannels.reversed()), groups = c.normNumGroups
            convIn = try Conv2d(w, "conv_in", in: c.latentChannels, out: reversed[0], kernel: 3, padding: 1)
            mid = try MidBlock(w.scoped("mid_block."), channels: reversed[0], groups: groups, addAttention: c.midBlockAddAttention)
            var previous = reversed[0]
            blocks = try reversed.indices.map { i in
                let out = reversed[i]
                let b = w.scoped("up_blocks.\(i).")
                let resnets = try (0...c.layersPerBlock).map { j in
                    try ResnetBlock2D(b.scoped("resnets.\(j)."), in: j == 0 ? previous : out, out: out, timeChannels: nil, groups: groups, eps: 1e-6)
                }
                previous = out
                let up = i < reversed.count - 1 ? try Upsample2D(b.scoped("upsamplers.0."), channels: out) : nil
                return (resnets, up)
            }
            normOut = try GroupNorm(w, "conv_norm_out", channels: c.blockOutChannels[0], groups: groups, eps: 1e-6)
            convOut = try Conv2d(w, "conv_out", in: c.blockOutChannels[0], out: c.outChannels, kernel: 3, padding: 1)
        }

        func callAsFunction(_ z: Tensor, scratch: ModuleScratch) -> Tensor {
            var h = mid(convIn(z, scratch: scratch.conv), scratch: scratch)
            for block in blocks {
                for r in block.resnets { h = r(h, timeActivated: nil, scratch: scratch) }
                if let u = block.up { h = u(h, height: h.shape[2] * 2, width: h.shape[3] * 2, scratch: scratch) }
            }
            return convOut(normOut(h, silu: true), scratch: scratch.conv)
        }
    }

    public convenience init(directory: URL, variant: String? = nil, loadEncoder: Bool = true) throws {
        let config = try decodeConfig(AutoencoderConfiguration.self, at: directory.appendingPathComponent("config.json"))
        let store = try openWeights(path: directory.path, variant: variant)
        try self.init(config: config, weights: Weights(store), loadEncoder: loadEncoder)
    }

    /// `loadEncoder: false` skips the encoder (text-to-image never uses it).
    init(config c: AutoencoderConfiguration, weights w: Weights, loadEncoder: Bool = true) throws {
        try c.validate()
        config = c
        let l = c.latentChannels
        encoder = loadEncoder ? try Encoder(w.scoped("encoder."), c) : nil
        quantConv = loadEncoder && c.useQuantConv ? try Conv2d(w, "quant_conv", in: 2 * l, out: 2 * l, kernel: 1) : nil
        postQuantConv = c.usePostQuantConv ? try Conv2d(w, "post_quant_conv", in: l, out: l, kernel: 1) : nil
        decoder = try Decoder(w.scoped("decoder."), c)
    }

    /// Images [B, 3, H, W] in [−1, 1] → (mean, logvar) [B, latent, H/f, W/f]; logvar clamped to [−30, 20].
    public func encode(_ image: Tensor) throws -> (mean: Tensor, logvar: Tensor) {
        guard let encoder else { throw DiffusionError.badInput("this AutoencoderKL was loaded without its encoder") }
        let f = config.downscaleFactor
        guard image.rank == 4, image.shape[1] == config.inChannels, image.shape[2] % f == 0, image.shape[3] % f == 0,
              image.shape[2] > 0, image.shape[3] > 0 else {
            throw DiffusionError.badInput("VAE encoder input must be [batch, \(config.inChannels), H, W] with H and W multiples of \(f), got \(image.shape)")
        }
        var moments = encoder(image, scratch: scratch)
        if let q = quantConv { moments = q(moments, scratch: scratch.conv) }
        let batch = image.shape[0], l = config.latentChannels, spatial = moments.shape[2] * moments.shape[3]
        let shape = [batch, l, moments.shape[2], moments.shape[3]]
        let mean = Tensor(shape: shape), logvar = Tensor(shape: shape)
        for b in 0..<batch {
            (mean.data + b * l * spatial).update(from: moments.data + b * 2 * l * spatial, count: l * spatial)
            let lv = logvar.data + b * l * spatial, src = moments.data + (b * 2 + 1) * l * spatial
            for i in 0..<(l * spatial) { lv[i] = min(max(src[i], -30), 20) }
        }
        return (mean, logvar)
    }

    /// Latents [B, latent, h, w] → images [B, out, h·f, w·f], roughly in [−1, 1].
    public func decode(_ latents: Tensor) throws -> Tensor {
        guard latents.rank == 4, latents.shape[1] == config.latentChannels, latents.shape[2] > 0, latents.shape[3] > 0 else {
            throw DiffusionError.badInput("VAE decoder input must be [batch, \(config.latentChannels), h, w], got \(latents.shape)")
        }
        let z = postQuantConv.map { $0(latents, scratch: scratch.conv) } ?? latents
        return decoder(z, scratch: scratch)
    }

    public func releaseScratch() { scratch.release() }
}
