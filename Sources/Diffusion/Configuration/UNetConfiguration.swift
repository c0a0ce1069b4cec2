/// unet/config.json of a diffusers `UNet2DConditionModel`: the keys Easel reads, with diffusers' defaults
/// for absent ones (diffusers 0.42.1). Options Easel does not implement are kept so `validate` can name them.
public struct UNetConfiguration: Decodable, Sendable {
    public var sampleSize = 64
    public var inChannels = 4
    public var outChannels = 4
    public var centerInputSample = false
    public var flipSinToCos = true
    public var freqShift = 0
    public var downBlockTypes = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
    public var midBlockType: String? = "UNetMidBlock2DCrossAttn"
    public var upBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
    public var blockOutChannels = [320, 640, 1280, 1280]
    var layersPerBlock = IntOrList.one(2)
    public var downsamplePadding = 1
    public var midBlockScaleFactor: Float = 1
    public var actFn = "silu"
    public var normNumGroups = 32
    public var normEps: Float = 1e-5
    var crossAttentionDim = IntOrList.one(1280)
    var transformerLayersPerBlock = IntOrList.one(1)
    var attentionHeadDim = IntOrList.one(8)
    var numAttentionHeads: IntOrList?
    public var useLinearProjection = false
    public var dualCrossAttention = false
    var onlyCrossAttention: Bool? = false
    public var upcastAttention = false
    public var resnetTimeScaleShift = "default"
    public var resnetOutScaleFactor: Float = 1
    public var timeEmbeddingType = "positional"
    public var convInKernel = 3
    public var convOutKernel = 3
    // Conditioning extensions of later models (SDXL, LCM…); v1 has none of them.
    var classEmbedType: String?
    var additionEmbedType: String?
    var encoderHidDimType: String?
    var timeCondProjDim: Int?
    var timeEmbeddingDim: Int?
    var timeEmbeddingActFn: String?
    var timestepPostAct: String?
    var attentionType = "default"
    var crossAttentionNorm: String?
    var numClassEmbeds: Int?

    enum CodingKeys: String, CodingKey {
        case sampleSize = "sample_size", inChannels = "in_channels", outChannels = "out_channels"
        case centerInputSample = "center_input_sample", flipSinToCos = "flip_sin_to_cos", freqShift = "freq_shift"
        case downBlockTypes = "down_block_types", midBlockType = "mid_block_type", upBlockTypes = "up_block_types"
        case blockOutChannels = "block_out_channels", layersPerBlock = "layers_per_block"
        case downsamplePadding = "downsample_padding", midBlockScaleFactor = "mid_block_scale_factor", actFn = "act_fn"
        case normNumGroups = "norm_num_groups", normEps = "norm_eps", crossAttentionDim = "cross_attention_dim"
        case transformerLayersPerBlock = "transformer_layers_per_block", attentionHeadDim = "attention_head_dim"
        case numAttentionHeads = "num_attention_heads", useLinearProjection = "use_linear_projection"
        case dualCrossAttention = "dual_cross_attention", onlyCrossAttention = "only_cross_attention"
        case upcastAttention = "upcast_attention", resnetTimeScaleShift = "resnet_time_scale_shift"
        case resnetOutScaleFactor = "resnet_out_scale_factor", timeEmbeddingType = "time_embedding_type"
        case convInKernel = "conv_in_kernel", convOutKernel = "conv_out_kernel", classEmbedType = "class_embed_type"
        case additionEmbedType = "addition_embed_type", encoderHidDimType = "encoder_hid_dim_type"
        case timeCondProjDim = "time_cond_proj_dim", timeEmbeddingDim = "time_embedding_dim"
        case timeEmbeddingActFn = "time_embedding_act_fn", timestepPostAct = "timestep_post_act"
        case attentionType = "attention_type", crossAttentionNorm = "cross_attention_norm", numClassEmbeds = "num_class_embeds"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var s = UNetConfiguration()
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        // sample_size may be [h, w] in later configs; v1 uses one int.
        if let v = try? c.decodeIfPresent(Int.self, forKey: .sampleSize) { s.sampleSize = v }
        else if let v = try? c.decodeIfPresent([Int].self, forKey: .sampleSize), let first = v.first { s.sampleSize = first }
        try read(.inChannels, &s.inChannels); try read(.outChannels, &s.outChannels)
        try read(.centerInputSample, &s.centerInputSample); try read(.flipSinToCos, &s.flipSinToCos)
        try read(.freqShift, &s.freqShift); try read(.downBlockTypes, &s.downBlockTypes)
        if c.contains(.midBlockType) { s.midBlockType = try c.decodeIfPresent(String.self, forKey: .midBlockType) }
        try read(.upBlockTypes, &s.upBlockTypes); try read(.blockOutChannels, &s.blockOutChannels)
        try read(.layersPerBlock, &s.layersPerBlock); try read(.downsamplePadding, &s.downsamplePadding)
        try read(.midBlockScaleFactor, &s.midBlockScaleFactor); try read(.actFn, &s.actFn)
        try read(.normNumGroups, &s.normNumGroups); try read(.normEps, &s.normEps)
        try read(.crossAttentionDim, &s.crossAttentionDim); try read(.transformerLayersPerBlock, &s.transformerLayersPerBlock)
        try read(.attentionHeadDim, &s.attentionHeadDim)
        s.numAttentionHeads = try c.decodeIfPresent(IntOrList.self, forKey: .numAttentionHeads)
        try read(.useLinearProjection, &s.useLinearProjection); try read(.dualCrossAttention, &s.dualCrossAttention)
        s.onlyCrossAttention = try? c.decodeIfPresent(Bool.self, forKey: .onlyCrossAttention)
        try read(.upcastAttention, &s.upcastAttention); try read(.resnetTimeScaleShift, &s.resnetTimeScaleShift)
        try read(.resnetOutScaleFactor, &s.resnetOutScaleFactor); try read(.timeEmbeddingType, &s.timeEmbeddingType)
        try read(.convInKernel, &s.convInKernel); try read(.convOutKernel, &s.convOutKernel)
        s.classEmbedType = try c.decodeIfPresent(String.self, forKey: .classEmbedType)
        s.additionEmbedType = try c.decodeIfPresent(String.self, forKey: .additionEmbedType)
        s.encoderHidDimType = try c.decodeIfPresent(String.self, forKey: .encoderHidDimType)
        s.timeCondProjDim = try c.decodeIfPresent(Int.self, forKey: .timeCondProjDim)
        s.timeEmbeddingDim = try c.decodeIfPresent(Int.self, forKey: .timeEmbeddingDim)
        s.timeEmbeddingActFn = try c.decodeIfPresent(String.self, forKey: .timeEmbeddingActFn)
        s.timestepPostAct = try c.decodeIfPresent(String.self, forKey: .timestepPostAct)
        try read(.attentionType, &s.attentionType)
        s.crossAttentionNorm = try c.decodeIfPresent(String.self, forKey: .crossAttentionNorm)
        s.numClassEmbeds = try c.decodeIfPresent(Int.self, forKey: .numClassEmbeds)
        self = s
    }

    var blockCount: Int { blockOutChannels.count }
    var layers: [Int] { layersPerBlock.values(count: blockCount) }
    /// Heads per block. diffusers' v1 configs name the head count `attention_head_dim` (a historical
    /// misnomer it keeps for compatibility): `num_attention_heads` wins when present.
    var heads: [Int] { (numAttentionHeads ?? attentionHeadDim).values(count: blockCount) }
    var crossDims: [Int] { crossAttentionDim.values(count: blockCount) }
    var transformerLayers: [Int] { transformerLayersPerBlock.values(count: blockCount) }

    /// Throws naming the first option Easel's UNet does not implement.
    func validate() throws {
        func no(_ key: String, _ value: Any) -> DiffusionError {
            .unsupported(component: "UNet2DConditionModel", key: key, value: "\(value)")
        }
        let n = blockCount
        guard n > 0, downBlockTypes.count == n, upBlockTypes.count == n else {
            throw no("down_block_types/up_block_types", "\(downBlockTypes.count)/\(upBlockTypes.count) blocks for \(n) block_out_channels")
        }
        for list in [layers, heads, crossDims, transformerLayers] where list.count != n {
            throw no("per-block list", "\(list) for \(n) blocks")
        }
        for t in downBlockTypes where !["CrossAttnDownBlock2D", "DownBlock2D"].contains(t) { throw no("down_block_types", t) }
        for t in upBlockTypes where !["CrossAttnUpBlock2D", "UpBlock2D"].contains(t) { throw no("up_block_types", t) }
        if let m = midBlockType, m != "UNetMidBlock2DCrossAttn" { throw no("mid_block_type", m) }
        if actFn != "silu" { throw no("act_fn", actFn) }
        if dualCrossAttention { throw no("dual_cross_attention", true) }
        if onlyCrossAttention == true { throw no("only_cross_attention", true) }
        if resnetTimeScaleShift != "default" { throw no("resnet_time_scale_shift", resnetTimeScaleShift) }
        if timeEmbeddingType != "positional" { throw no("time_embedding_type", timeEmbeddingType) }
        if let v = classEmbedType { throw no("class_embed_type", v) }
        if let v = additionEmbedType { throw no("addition_embed_type", v) }
        if let v = encoderHidDimType { throw no("encoder_hid_dim_type", v) }
        if let v = timeCondProjDim { throw no("time_cond_proj_dim", v) }
        if let v = timeEmbeddingDim { throw no("time_embedding_dim", v) }
        if let v = timeEmbeddingActFn { throw no("time_embedding_act_fn", v) }
        if let v = timestepPostAct { throw no("timestep_post_act", v) }
        if let v = crossAttentionNorm { throw no("cross_attention_norm", v) }
        if let v = numClassEmbeds { throw no("num_class_embeds", v) }
        if attentionType != "default" { throw no("attention_type", attentionType) }
        if convInKernel % 2 == 0 || convOutKernel % 2 == 0 { throw no("conv_in_kernel/conv_out_kernel", "\(convInKernel)/\(convOutKernel)") }
        for (c, h) in zip(blockOutChannels, heads) where h <= 0 || c % h != 0 || c % normNumGroups != 0 {
            throw no("block_out_channels/heads/norm_num_groups", "\(c) channels, \(h) heads, \(normNumGroups) groups")
        }
    }
}
