/// transformers' CLIPVisionConfig: the `vision_config` of a CLIPModel's config.json, or the whole config.json of a
/// CLIPVisionModelWithProjection (easel-mini's vision_model/). Missing keys take transformers' defaults (ViT-B/32).
public struct CLIPVisionConfiguration: Codable, Sendable, Equatable {
    public var hiddenSize = 768
    public var intermediateSize = 3072
    public var numHiddenLayers = 12
    public var numAttentionHeads = 12
    public var imageSize = 224
    public var patchSize = 32
    public var numChannels = 3
    public var hiddenAct = "quick_gelu"
    public var layerNormEps: Float = 1e-5
    /// Width of `visual_projection` in a CLIPVisionModelWithProjection; a CLIPModel uses its own top-level
    /// projection_dim instead.
    public var projectionDim = 512

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case imageSize = "image_size", patchSize = "patch_size", numChannels = "num_channels"
        case hiddenAct = "hidden_act", layerNormEps = "layer_norm_eps", projectionDim = "projection_dim"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = CLIPVisionConfiguration()
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? d.intermediateSize
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? d.numHiddenLayers
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? d.numAttentionHeads
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? d.imageSize
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize) ?? d.patchSize
        numChannels = try c.decodeIfPresent(Int.self, forKey: .numChannels) ?? d.numChannels
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? d.hiddenAct
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? d.layerNormEps
        projectionDim = try c.decodeIfPresent(Int.self, forKey: .projectionDim) ?? d.projectionDim
    }

    /// Patches per side: the stride-`patchSize` convolution's output grid.
    public var gridSize: Int { imageSize / patchSize }
}
