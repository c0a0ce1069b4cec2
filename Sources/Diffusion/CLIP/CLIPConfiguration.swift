/// config.json of a transformers CLIPModel (transformers' CLIPConfig, as in openai/clip-vit-large-patch14): both
/// towers' configs and the width of the shared embedding space. A tower's own projection_dim is ignored there, as
/// CLIPModel ignores it.
public struct CLIPConfiguration: Decodable, Sendable, Equatable {
    public var textConfig = CLIPTextConfiguration()
    public var visionConfig = CLIPVisionConfiguration()
    public var projectionDim = 512

    enum CodingKeys: String, CodingKey {
        case textConfig = "text_config", visionConfig = "vision_config", projectionDim = "projection_dim"
        case textConfigDict = "text_config_dict", visionConfigDict = "vision_config_dict"
    }

    public init() {}

    /// Configs written by transformers 4.2x carry the towers as text_config_dict / vision_config_dict; read those
    /// when the plain keys are absent.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        textConfig = try c.decodeIfPresent(CLIPTextConfiguration.self, forKey: .textConfig)
            ?? c.decodeIfPresent(CLIPTextConfiguration.self, forKey: .textConfigDict) ?? CLIPTextConfiguration()
        visionConfig = try c.decodeIfPresent(CLIPVisionConfiguration.self, forKey: .visionConfig)
            ?? c.decodeIfPresent(CLIPVisionConfiguration.self, forKey: .visionConfigDict) ?? CLIPVisionConfiguration()
        projectionDim = try c.decodeIfPresent(Int.self, forKey: .projectionDim) ?? 512
    }
}
