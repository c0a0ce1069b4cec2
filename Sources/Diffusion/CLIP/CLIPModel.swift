// Port of transformers/models/clip/modeling_clip.py `CLIPModel` (transformers 5.24.0): get_text_features,
// get_image_features and the cosine similarity behind logits_per_image, with the tokenizer and image processor
// that feed them (CLIPProcessor).
import Foundation
import Tensors
import WeightIO

/// CLIP as a scorer: projected image and text embeddings and their cosine similarity ("CLIP-Sim"), from
/// either layout:
/// - a transformers CLIPModel folder (openai/clip-vit-large-patch14): config.json with text_config and
///   vision_config, model.safetensors ("text_model.*", "vision_model.*", "visual_projection.weight",
///   "text_projection.weight", "logit_scale"), preprocessor_config.json, and the tokenizer files;
/// - a diffusers folder that carries its CLIP's vision tower (easel-mini): text_encoder/, tokenizer/, and
///   vision_model/ (a CLIPVisionModelWithProjection, its preprocessor_config.json, and text_projection.safetensors
///   with "text_projection.weight" and "logit_scale").
///
/// Holds scratch buffers: use one instance from one thread at a time.
public final class CLIPModel {
    public let textModel: CLIPTextModel
    public let vision: CLIPVisionModelWithProjection
    let textProjection: Linear   // [projectionDim, text hidden], no bias
    public let tokenizer: CLIPTokenizer
    public let imageProcessor: CLIPImageProcessor
    /// exp(logit_scale): logits_per_image = logitScale · cosine.
    public let logitScale: Float

    /// Loads either layout, told apart by the files present.
    public convenience init(directory: URL) throws {
        let fm = FileManager.default
        let configURL = directory.appendingPathComponent("config.json")
        let visionFolder = directory.appendingPathComponent("vision_model")
        if fm.fileExists(atPath: configURL.path), try Self.isCLIPModelConfig(configURL) {
            let config = try decodeConfig(CLIPConfiguration.self, at: configURL)
            let store = try openWeights(path: directory.path)
            let w = Weights(store)
            let vision = try CLIPVisionModelWithProjection(config: config.visionConfig, projectionDim: config.projectionDim,
                                                           weights: w)
            try self.init(textModel: try CLIPTextModel(config: config.textConfig, weights: w.scoped("text_model.")),
                          vision: vision, projections: w, tokenizer: try Self.tokenizer(directory),
                          imageProcessor: try CLIPImageProcessor(directory: directory))
        } else if fm.fileExists(atPath: visionFolder.appendingPathComponent("config.json").path) {
            let extra = visionFolder.appendingPathComponent("text_projection.safetensors")
            guard fm.fileExists(atPath: extra.path) else {
                throw DiffusionError.badConfig(path: extra.path, reason: "missing: the text projection and logit scale "
                                               + "of the CLIP this vision tower was trained with")
            }
            try self.init(textModel: try CLIPTextModel(directory: directory.appendingPathComponent("text_encoder")),
                          vision: try CLIPVisionModelWithProjection(directory: visionFolder),
                          projections: Weights(try openWeights(path: extra.path)),
                          tokenizer: try Self.tokenizer(directory.appendingPathComponent("tokenizer")),
                          imageProcessor: try CLIPImageProcessor(directory: visionFolder))
        } else {
            throw DiffusionError.badConfig(
                path: directory.path,
                reason: "not a CLIP folder: expected config.json of a CLIPModel (with text_config and vision_config), "
                    + "or a diffusers folder with vision_model/config.json (easel-mini)")
        }
    }

    /// `projections` holds "text_projection.weight" and "logit_scale" at its root.
    init(textModel: CLIPTextModel, vision: CLIPVisionModelWithProjection, projections p: Weights,
         tokenizer: CLIPTokenizer, imageProcessor: CLIPImageProcessor) throws {
        guard min(tokenizer.maxLength, textModel.config.maxPositionEmbeddings) >= 2 else {
            throw DiffusionError.unsupported(component: "CLIPTextModel", key: "max_position_embeddings",
                                             value: "\(textModel.config.maxPositionEmbeddings) (a caption needs 2 positions "
                                                 + "for its start and end tokens)")
        }
        self.textModel = textModel
        self.vision = vision
        textProjection = try Linear(p, "text_projection", in: textModel.config.hiddenSize, out: vision.projectionDim,
                                    bias: false)
        // A 0-d tensor in CLIPModel files, [1] in easel-mini's.
        let scaleName = p.key("logit_scale")
        guard let shape = p.store.shape(of: scaleName) else {
            throw WeightIOError.missingTensor(name: scaleName, file: p.store.path)
        }
        guard shape.reduce(1, *) == 1 else {
            throw WeightIOError.shapeMismatch(name: scaleName, file: p.store.path, expected: [], found: shape)
        }
        logitScale = exp(try p.tensor("logit_scale", shape)[0])
        self.tokenizer = tokenizer
        self.imageProcessor = imageProcessor
    }

    /// Width of the shared embedding space (projection_dim).
    public var embeddingDimension: Int { vision.projectionDim }

    /// Tokens per caption, start and end tokens included: the tokenizer's model_max_length, at most the text
    /// tower's positions.
    public var maxTokens: Int { min(tokenizer.maxLength, textModel.config.maxPositionEmbeddings) }

    /// Most characters the words kept for one caption may span (see `inputIds`).
    static let maxTextCharacters = 16_384

    /// Token ids of one caption as CLIPTokenizer gives them with truncation=True, unpadded: <|startoftext|>, at
    /// most maxTokens − 2 tokens, <|endoftext|>. No padding is needed: the mask is causal and the pooled state
    /// is the end token's, which no later token can change.
    public func inputIds(_ text: String) throws -> [Int] {
        guard text.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
            throw DiffusionError.badInput("CLIP text is empty")
        }
        // Every white-space separated word gives at least one token, and its tokens depend on that word alone, so
        // the first maxTokens words give the same kept ids as the whole text: a huge text costs no more than that.
        var scalars = String.UnicodeScalarView()
        var words = 0, inWord = false
        for s in text.unicodeScalars {
            let space = s.properties.isWhitespace
            if !space && !inWord {
                words += 1
                if words > maxTokens { break }
            }
            inWord = !space
            scalars.append(s)
        }
        guard scalars.count <= Self.maxTextCharacters else {
            throw DiffusionError.badInput("CLIP text: its first \(min(words, maxTokens)) words span \(scalars.count) "
                                          + "characters; Easel encodes at most \(Self.maxTextCharacters)")
        }
        let body = tokenizer.encode(String(scalars)).prefix(maxTokens - 2)
        return [tokenizer.bosToken] + body + [tokenizer.eosToken]
    }

    /// get_text_features: the pooled (end token) output projected by text_projection, not normalised.
    public func textEmbedding(_ text: String) throws -> [Float] {
        try textEmbedding(ids: try inputIds(text))
    }

    /// get_text_features for given token ids (they must hold the end token; see CLIPTextModel.pooledPosition).
    public func textEmbedding(ids: [Int]) throws -> [Float] {
        let pooled = try textModel.pooledOutput(ids)
        let y = Tensor(shape: [1, textProjection.outFeatures])
        pooled.withUnsafeBufferPointer { textProjection($0.baseAddress!, rows: 1, y.data) }
        return y.scalars
    }

    /// get_image_features: the image preprocessed (resize, crop, normalise), the pooled class token projected by
    /// visual_projection, not normalised (what a Fréchet distance over CLIP features takes).
    public func imageEmbedding(_ image: RGBImage) throws -> [Float] {
        try vision(try imageProcessor(image)).imageEmbeds
    }

    /// CLIP-Sim: the cosine of the image's and the text's embeddings, in [−1, 1] (logits_per_image / logitScale).
    public func similarity(_ image: RGBImage, _ text: String) throws -> Float {
        try Self.cosineSimilarity(try imageEmbedding(image), try textEmbedding(text))
    }

    /// a·b / (|a| |b|), summed in double and clamped to [−1, 1].
    public static func cosineSimilarity(_ a: [Float], _ b: [Float]) throws -> Float {
        guard a.count == b.count, !a.isEmpty else {
            throw DiffusionError.badInput("cosine similarity of vectors of \(a.count) and \(b.count) values")
        }
        var dot = 0.0, aa = 0.0, bb = 0.0
        for i in 0..<a.count {
            dot += Double(a[i]) * Double(b[i]); aa += Double(a[i]) * Double(a[i]); bb += Double(b[i]) * Double(b[i])
        }
        guard aa > 0, bb > 0, dot.isFinite, aa.isFinite, bb.isFinite else {
            throw DiffusionError.badInput("cosine similarity of a zero or non-finite embedding")
        }
        return Float(min(1, max(-1, dot / (aa.squareRoot() * bb.squareRoot()))))
    }

    /// A CLIPModel config names its towers; a CLIPTextModel or CLIPVisionModel config does not.
    static func isCLIPModelConfig(_ url: URL) throws -> Bool {
        guard let data = try? Data(contentsOf: url),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw DiffusionError.badConfig(path: url.path, reason: "not a JSON object")
        }
        return ["text_config", "vision_config", "text_config_dict", "vision_config_dict"].contains { object[$0] != nil }
            || object["model_type"] as? String == "clip"
    }

    static func tokenizer(_ directory: URL) throws -> CLIPTokenizer {
        let fm = FileManager.default
        guard ["vocab.json", "tokenizer.json"].contains(where: { fm.fileExists(atPath: directory.appendingPathComponent($0).path) }) else {
            throw DiffusionError.badConfig(path: directory.path,
                                           reason: "no CLIP tokenizer: expected vocab.json and merges.txt, or tokenizer.json")
        }
        return try CLIPTokenizer(directory: directory)
    }
}
