// The original single-file SD v1 checkpoint (CompVis/Stability "sd-v1-4.safetensors"): the same modules under
// the LDM names. The rules mirror diffusers 0.42.1's loaders/single_file_utils.py converters
// (convert_ldm_unet_checkpoint, convert_ldm_vae_checkpoint, convert_ldm_clip_checkpoint), written here in the
// other direction: from the diffusers name a module asks for to the name stored in the file.
import Foundation
import Tensors
import WeightIO

enum LDMCheckpointNames {
    static let unetPrefix = "model.diffusion_model."
    static let vaePrefix = "first_stage_model."
    static let textPrefix = "cond_stage_model.transformer.text_model."

    static let resnet = ["norm1": "in_layers.0", "conv1": "in_layers.2", "time_emb_proj": "emb_layers.1",
                         "norm2": "out_layers.0", "conv2": "out_layers.3", "conv_shortcut": "skip_connection"]

    /// diffusers UNet name → LDM name: input_blocks/middle_block/output_blocks numbered in forward order.
    static func unet(_ name: String, config c: UNetConfiguration) -> String {
        let p = name.split(separator: ".").map(String.init)
        func tail(_ from: Int) -> String { p.count > from ? p[from...].joined(separator: ".") : "" }
        guard p.count >= 2 else { return unetPrefix + name }
        let layers = c.layers, n = layers.count
        // Output index where down block b starts: conv_in is input_blocks.0; each block adds its resnets
        // and, except the last, a downsampler.
        func downStart(_ b: Int) -> Int { 1 + (0..<b).reduce(0) { $0 + layers[$1] + ($1 < n - 1 ? 1 : 0) } }
        let upLayers = Array(layers.reversed())
        func upStart(_ b: Int) -> Int { (0..<b).reduce(0) { $0 + upLayers[$1] + 1 } }
        var mapped: String
        switch p[0] {
        case "time_embedding": mapped = (p[1] == "linear_1" ? "time_embed.0." : "time_embed.2.") + tail(2)
        case "conv_in": mapped = "input_blocks.0.0." + tail(1)
        case "conv_norm_out": mapped = "out.0." + tail(1)
        case "conv_out": mapped = "out.2." + tail(1)
        case "down_blocks" where p.count >= 5:
            let b = Int(p[1]) ?? 0, j = Int(p[3]) ?? 0
            switch p[2] {
            case "downsamplers": mapped = "input_blocks.\(downStart(b) + layers[min(b, n - 1)]).0.op." + tail(5)
            case "resnets": mapped = "input_blocks.\(downStart(b) + j).0.\(resnet[p[4]] ?? p[4])." + tail(5)
            default: mapped = "input_blocks.\(downStart(b) + j).1." + tail(4)
            }
        case "mid_block" where p.count >= 4:
            if p[1] == "resnets" { mapped = "middle_block.\(p[2] == "0" ? 0 : 2).\(resnet[p[3]] ?? p[3])." + tail(4) }
            else { mapped = "middle_block.1." + tail(3) }
        case "up_blocks" where p.count >= 5:
            let b = Int(p[1]) ?? 0, j = Int(p[3]) ?? 0
            switch p[2] {
            case "upsamplers":
                let hasAttention = b < c.upBlockTypes.count && c.upBlockTypes[b] == "CrossAttnUpBlock2D"
                mapped = "output_blocks.\(upStart(b) + upLayers[min(b, n - 1)]).\(hasAttention ? 2 : 1).conv." + tail(5)
            case "resnets": mapped = "output_blocks.\(upStart(b) + j).0.\(resnet[p[4]] ?? p[4])." + tail(5)
            default: mapped = "output_blocks.\(upStart(b) + j).1." + tail(4)
            }
        default: mapped = name
        }
        return unetPrefix + mapped
    }

    /// diffusers VAE name → LDM name: down.N.block / up.N.block (decoder blocks numbered from the bottom),
    /// mid.block_1/attn_1/block_2, norm_out, nin_shortcut, and the attention's q/k/v/proj_out.
    static func vae(_ name: String, config c: AutoencoderConfiguration) -> String {
        let p = name.split(separator: ".").map(String.init)
        func tail(_ from: Int) -> String { p.count > from ? p[from...].joined(separator: ".") : "" }
        guard p.count >= 3, p[0] == "encoder" || p[0] == "decoder" else { return vaePrefix + name }
        let side = p[0]
        var mapped: String
        switch p[1] {
        case "conv_norm_out": mapped = "norm_out." + tail(2)
        case "mid_block" where p.count >= 5:
            if p[2] == "resnets" {
                mapped = "mid.block_\((Int(p[3]) ?? 0) + 1).\(p[4] == "conv_shortcut" ? "nin_shortcut" : p[4])." + tail(5)
            } else {
                let sub = ["group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out": "proj_out"][p[4]] ?? p[4]
                mapped = "mid.attn_1.\(sub)." + tail(p[4] == "to_out" ? 6 : 5)
            }
        case "down_blocks", "up_blocks":
            var b = Int(p[2]) ?? 0
            if side == "decoder" { b = c.blockOutChannels.count - 1 - b }
            let group = side == "decoder" ? "up" : "down"
            if p[3] == "upsamplers" || p[3] == "downsamplers" {
                mapped = "\(group).\(b).\(side == "decoder" ? "upsample" : "downsample").conv." + tail(6)
            } else {
                mapped = "\(group).\(b).block.\(p.count > 4 ? p[4] : "").\(p.count > 5 && p[5] == "conv_shortcut" ? "nin_shortcut" : (p.count > 5 ? p[5] : ""))." + tail(6)
            }
        default: mapped = tail(1)
        }
        return vaePrefix + side + "." + mapped
    }
}

extension StableDiffusionPipeline {
    /// Loads a single-file SD v1 checkpoint (.safetensors with the original LDM names). The file carries no
    /// configs or tokenizer: the architecture defaults to SD v1's (override for other shapes) and the
    /// tokenizer comes from `tokenizer` (a folder with vocab.json + merges.txt or tokenizer.json).
    public convenience init(singleFile: URL, tokenizer tokenizerDirectory: URL,
                            unetConfig: UNetConfiguration = .stableDiffusionV1,
                            vaeConfig: AutoencoderConfiguration = .stableDiffusionV1,
                            textConfig: CLIPTextConfiguration = CLIPTextConfiguration(),
                            schedulerConfig: SchedulerConfiguration = .stableDiffusionV1) throws {
        let store = try openWeights(path: singleFile.path)
        let tokenizer = try CLIPTokenizer(directory: tokenizerDirectory)
        let text = try CLIPTextModel(config: textConfig, weights: Weights(store, prefix: LDMCheckpointNames.textPrefix))
        let unet = try UNet2DConditionModel(config: unetConfig, weights: Weights(store) {
            LDMCheckpointNames.unet($0, config: unetConfig)
        })
        let vae = try AutoencoderKL(config: vaeConfig, weights: Weights(store) {
            if $0 == "quant_conv.weight" || $0 == "quant_conv.bias" || $0.hasPrefix("post_quant_conv.") {
                return LDMCheckpointNames.vaePrefix + $0
            }
            return LDMCheckpointNames.vae($0, config: vaeConfig)
        })
        try self.init(directory: singleFile, tokenizer: tokenizer, textEncoder: text, unet: unet, vae: vae,
                      schedulerConfig: schedulerConfig)
    }
}

extension UNetConfiguration {
    /// CompVis/stable-diffusion-v1-4's unet/config.json.
    public static let stableDiffusionV1: UNetConfiguration = {
        var c = UNetConfiguration()
        c.sampleSize = 64
        c.crossAttentionDim = .one(768)
        c.attentionHeadDim = .one(8)
        return c
    }()
}

extension AutoencoderConfiguration {
    /// CompVis/stable-diffusion-v1-4's vae/config.json.
    public static let stableDiffusionV1: AutoencoderConfiguration = {
        var c = AutoencoderConfiguration()
        c.blockOutChannels = [128, 256, 512, 512]
        c.downBlockTypes = [String](repeating: "DownEncoderBlock2D", count: 4)
        c.upBlockTypes = [String](repeating: "UpDecoderBlock2D", count: 4)
        c.layersPerBlock = 2
        c.sampleSize = 512
        return c
    }()
}
