// Port of diffusers/src/diffusers/models/unets/unet_2d_condition.py and unet_2d_blocks.py (diffusers 0.42.1)
// for the SD v1 family: CrossAttnDownBlock2D/DownBlock2D, UNetMidBlock2DCrossAttn, CrossAttnUpBlock2D/UpBlock2D.
import Foundation
import Tensors
import WeightIO

/// The conditional UNet that predicts noise from (latents, timestep, text states), built from the
/// checkpoint's unet/config.json. Tensors are NCHW, as in diffusers.
public final class UNet2DConditionModel {
    public let config: UNetConfiguration
    let timeEmbedding: TimestepEmbedding
    let convIn: Conv2d
    let downBlocks: [DownBlock]
    let midResnets: [ResnetBlock2D]
    let midAttentions: [Transformer2DModel]
    let upBlocks: [UpBlock]
    let normOut: GroupNorm
    let convOut: Conv2d
    let scratch = ModuleScratch()

    struct DownBlock {
        let resnets: [ResnetBlock2D]
        let attentions: [Transformer2DModel]
        let downsampler: Downsample2D?
    }

    struct UpBlock {
        let resnets: [ResnetBlock2D]
        let attentions: [Transformer2DModel]
        let upsampler: Upsample2D?
    }

    public convenience init(directory: URL, variant: String? = nil) throws {
        let config = try decodeConfig(UNetConfiguration.self, at: directory.appendingPathComponent("config.json"))
        let store = try openWeights(path: directory.path, variant: variant)
        try self.init(config: config, weights: Weights(store))
    }

    init(config c: UNetConfiguration, weights w: Weights) throws {
        try c.validate()
        config = c
        let channels = c.blockOutChannels, n = channels.count
        let timeDim = channels[0] * 4
        let groups = c.normNumGroups, eps = c.normEps
        let heads = c.heads, crossDims = c.crossDims, tLayers = c.transformerLayers, layers = c.layers
        timeEmbedding = try TimestepEmbedding(w.scoped("time_embedding."), in: channels[0], out: timeDim)
        convIn = try Conv2d(w, "conv_in", in: c.inChannels, out: channels[0], kernel: c.convInKernel, padding: (c.convInKernel - 1) / 2)

        var blocks: [DownBlock] = []
        var output = channels[0]
        for i in 0..<n {
            let input = output
            output = channels[i]
            let b = w.scoped("down_blocks.\(i).")
            let cross = c.downBlockTypes[i] == "CrossAttnDownBlock2D"
            let resnets = try (0..<layers[i]).map { j in
                try ResnetBlock2D(b.scoped("resnets.\(j)."), in: j == 0 ? input : output, out: output, timeChannels: timeDim,
                                  groups: groups, eps: eps, outputScale: c.resnetOutScaleFactor)
            }
            let attentions = cross ? try (0..<layers[i]).map { j in
                try Transformer2DModel(b.scoped("attentions.\(j)."), channels: output, heads: heads[i], crossDim: crossDims[i],
                                       layers: tLayers[i], groups: groups, linearProjection: c.useLinearProjection)
            } : []
            let down = i < n - 1 ? try Downsample2D(b.scoped("downsamplers.0."), channels: output, padding: c.downsamplePadding) : nil
            blocks.append(DownBlock(resnets: resnets, attentions: attentions, downsampler: down))
        }
        downBlocks = blocks

        let last = channels[n - 1]
        if c.midBlockType != nil {
            let m = w.scoped("mid_block.")
            midResnets = try (0..<2).map {
                try ResnetBlock2D(m.scoped("resnets.\($0)."), in: last, out: last, timeChannels: timeDim, groups: groups,
                                  eps: eps, outputScale: c.midBlockScaleFactor)
            }
            midAttentions = [try Transformer2DModel(m.scoped("attentions.0."), channels: last, heads: heads[n - 1],
                                                    crossDim: crossDims[n - 1], layers: tLayers[n - 1], groups: groups,
                                                    linearProjection: c.useLinearProjection)]
        } else {
            midResnets = []
            midAttentions = []
        }

        let reversed = Array(channels.reversed())
        let reversedHeads = Array(heads.reversed()), reversedCross = Array(crossDims.reversed())
        let reversedLayers = Array(layers.reversed()), reversedTLayers = Array(tLayers.reversed())
        var ups: [UpBlock] = []
        var previous = reversed[0]
        for i in 0..<n {
            let out = reversed[i], input = reversed[min(i + 1, n - 1)]
            let b = w.scoped("up_blocks.\(i).")
            let cross = c.upBlockTypes[i] == "CrossAttnUpBlock2D"
            let count = reversedLayers[i] + 1
            let resnets = try (0..<count).map { j in
                let skip = j == count - 1 ? input : out
                let resIn = j == 0 ? previous : out
                return try ResnetBlock2D(b.scoped("resnets.\(j)."), in: resIn + skip, out: out, timeChannels: timeDim,
                                         groups: groups, eps: eps, outputScale: c.resnetOutScaleFactor)
            }
            let attentions = cross ? try (0..<count).map { j in
                try Transformer2DModel(b.scoped("attentions.\(j)."), channels: out, heads: reversedHeads[i],
                                       crossDim: reversedCross[i], layers: reversedTLayers[i], groups: groups,
                                       linearProjection: c.useLinearProjection)
            } : []
            let up = i < n - 1 ? try Upsample2D(b.scoped("upsamplers.0."), channels: out) : nil
            ups.append(UpBlock(resnets: resnets, attentions: attentions, upsampler: up))
            previous = out
        }
        upBlocks = ups
        normOut = try GroupNorm(w, "conv_norm_out", channels: channels[0], groups: groups, eps: eps)
        convOut = try Conv2d(w, "conv_out", in: channels[0], out: c.outChannels, kernel: c.convOutKernel, padding: (c.convOutKernel - 1) / 2)
    }

    /// The text-state width every cross-attention expects (768 for SD v1).
    public var crossAttentionDim: Int { config.crossDims[0] }

    /// Noise prediction for `sample` [B, in, h, w] at `timestep` (the same for the whole batch), attending to
    /// `encoderHiddenStates` [B, L, crossAttentionDim] for any L ≥ 1.
    public func callAsFunction(_ sample: Tensor, timestep: Double, encoderHiddenStates context: Tensor) throws -> Tensor {
        guard sample.rank == 4, sample.shape[1] == config.inChannels, sample.shape[2] > 0, sample.shape[3] > 0 else {
            throw DiffusionError.badInput("UNet sample must be [batch, \(config.inChannels), h, w], got \(sample.shape)")
        }
        guard context.rank == 3, context.shape[0] == sample.shape[0], context.shape[1] > 0,
              config.crossDims.allSatisfy({ $0 == context.shape[2] }) else {
            throw DiffusionError.badInput(
                "UNet text states must be [\(sample.shape[0]), L, \(config.crossDims[0])], got \(context.shape)")
        }
        let batch = sample.shape[0]
        var x = sample
        if config.centerInputSample {
            x = sample.clone()
            for i in 0..<x.count { x[i] = 2 * x[i] - 1 }
        }
        // Time embedding, then SiLU once for all the resnets' time projections.
        let c0 = config.blockOutChannels[0]
        let sinusoid = timestepEmbedding(timestep, dim: c0, flipSinToCos: config.flipSinToCos, shift: config.freqShift)
        let tIn = Tensor(shape: [batch, c0], values: Array((0..<batch).map { _ in sinusoid }.joined()))
        let temb = timeEmbedding(tIn, rows: batch)
        silu(temb.data, count: temb.count)

        var h = convIn(x, scratch: scratch.conv)
        var skips = [h]
        for block in downBlocks {
            for (j, resnet) in block.resnets.enumerated() {
                h = resnet(h, timeActivated: temb, scratch: scratch)
                if !block.attentions.isEmpty { h = block.attentions[j](h, context: context, scratch: scratch) }
                skips.append(h)
            }
            if let down = block.downsampler {
                h = down(h, scratch: scratch)
                skips.append(h)
            }
        }
        if !midResnets.isEmpty {
            h = midResnets[0](h, timeActivated: temb, scratch: scratch)
            h = midAttentions[0](h, context: context, scratch: scratch)
            h = midResnets[1](h, timeActivated: temb, scratch: scratch)
        }
        for block in upBlocks {
            for (j, resnet) in block.resnets.enumerated() {
                h = resnet(concatChannels(h, skips.removeLast()), timeActivated: temb, scratch: scratch)
                if !block.attentions.isEmpty { h = block.attentions[j](h, context: context, scratch: scratch) }
            }
            if let up = block.upsampler {
                // To the size of the skip connection it meets next: ×2, except after an odd-sized downsample.
                let next = skips.last!
                h = up(h, height: next.shape[2], width: next.shape[3], scratch: scratch)
            }
        }
        return convOut(normOut(h, silu: true), scratch: scratch.conv)
    }

    /// Frees the kernels' scratch buffers (they are re-grown on the next call).
    public func releaseScratch() { scratch.release() }
}
