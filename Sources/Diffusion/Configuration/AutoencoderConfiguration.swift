/// vae/config.json of a diffusers `AutoencoderKL` (diffusers 0.42.1 defaults for absent keys).
public struct AutoencoderConfiguration: Decodable, Sendable {
    public var inChannels = 3
    public var outChannels = 3
    public var downBlockTypes = ["DownEncoderBlock2D"]
    public var upBlockTypes = ["UpDecoderBlock2D"]
    public var blockOutChannels = [64]
    public var layersPerBlock = 1
    public var actFn = "silu"
    public var latentChannels = 4
    public var normNumGroups = 32
    public var sampleSize = 32
    /// Latents are multiplied by this after encoding and divided before decoding (0.18215 for SD v1).
    public var scalingFactor: Float = 0.18215
    public var shiftFactor: Float?
    public var useQuantConv = true
    public var usePostQuantConv = true
    public var midBlockAddAttention = true

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels", outChannels = "out_channels", downBlockTypes = "down_block_types"
        case upBlockTypes = "up_block_types", blockOutChannels = "block_out_channels", layersPerBlock = "layers_per_block"
        case actFn = "act_fn", latentChannels = "latent_channels", normNumGroups = "norm_num_groups"
        case sampleSize = "sample_size", scalingFactor = "scaling_factor", shiftFactor = "shift_factor"
        case useQuantConv = "use_quant_conv", usePostQuantConv = "use_post_quant_conv"
        case midBlockAddAttention = "mid_block_add_attention"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var s = AutoencoderConfiguration()
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        try read(.inChannels, &s.inChannels); try read(.outChannels, &s.outChannels)
        try read(.downBlockTypes, &s.downBlockTypes); try read(.upBlockTypes, &s.upBlockTypes)
        try read(.blockOutChannels, &s.blockOutChannels); try read(.layersPerBlock, &s.layersPerBlock)
        try read(.actFn, &s.actFn); try read(.latentChannels, &s.latentChannels)
        try read(.normNumGroups, &s.normNumGroups)
        if let v = try? c.decodeIfPresent(Int.self, forKey: .sampleSize) { s.sampleSize = v }
        try read(.scalingFactor, &s.scalingFactor)
        s.shiftFactor = try c.decodeIfPresent(Float.self, forKey: .shiftFactor)
        try read(.useQuantConv, &s.useQuantConv); try read(.usePostQuantConv, &s.usePostQuantConv)
        try read(.midBlockAddAttention, &s.midBlockAddAttention)
        self = s
    }

    func validate() throws {
        func no(_ key: String, _ value: Any) -> DiffusionError {
            .unsupported(component: "AutoencoderKL", key: key, value: "\(value)")
        }
        let n = blockOutChannels.count
        guard n > 0, downBlockTypes.count == n, upBlockTypes.count == n else {
            throw no("down_block_types/up_block_types", "\(downBlockTypes.count)/\(upBlockTypes.count) for \(n) block_out_channels")
        }
        for t in downBlockTypes where t != "DownEncoderBlock2D" { throw no("down_block_types", t) }
        for t in upBlockTypes where t != "UpDecoderBlock2D" { throw no("up_block_types", t) }
        if actFn != "silu" { throw no("act_fn", actFn) }
        if layersPerBlock < 1 { throw no("layers_per_block", layersPerBlock) }
        for ch in blockOutChannels where ch % normNumGroups != 0 { throw no("norm_num_groups", "\(normNumGroups) for \(ch) channels") }
    }

    /// Pixels per latent pixel: 2^(blocks − 1), 8 for SD v1.
    public var downscaleFactor: Int { 1 << (blockOutChannels.count - 1) }
}
