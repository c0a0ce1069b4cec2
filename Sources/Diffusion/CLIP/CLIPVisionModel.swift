// Port of transformers/models/clip/modeling_clip.py `CLIPVisionModel` (the vision transformer with
// `CLIPVisionEmbeddings`) and `CLIPVisionModelWithProjection` (transformers 5.24.0).
import Foundation
import Tensors
import WeightIO

/// CLIP's image tower, a ViT: the image cut into patch×patch squares by a stride-patch convolution without
/// bias, a learned class token in front, learned position embeddings, `pre_layrnorm` (transformers' spelling),
/// the pre-LayerNorm encoder without a mask, and `post_layernorm` on the class token's state (the pooled output).
/// Position embeddings are used as trained, so images must be image_size × image_size (no interpolation).
public final class CLIPVisionModel {
    public let config: CLIPVisionConfiguration
    let classEmbedding: Tensor        // [hidden]
    let patchEmbedding: WeightMatrix  // [hidden, channels·patch·patch]: the conv weight [hidden, channels, patch, patch]
    let positionEmbedding: Tensor     // [1 + grid², hidden]
    let preLayerNorm: LayerNorm
    let encoder: CLIPEncoder
    let postLayerNorm: LayerNorm
    let convScratch = ConvScratch()

    /// Largest image side accepted from a config: far above any CLIP (336), small enough that no size overflows.
    static let maxImageSize = 4096

    /// `w` is scoped to the tower's names, "vision_model." in both CLIPModel and CLIPVisionModelWithProjection files.
    init(config c: CLIPVisionConfiguration, weights w: Weights) throws {
        func bad(_ key: String, _ value: Int) -> DiffusionError {
            .unsupported(component: "CLIPVisionModel", key: key, value: "\(value)")
        }
        guard c.imageSize > 0, c.imageSize <= Self.maxImageSize else { throw bad("image_size", c.imageSize) }
        guard c.patchSize > 0, c.patchSize <= c.imageSize else { throw bad("patch_size", c.patchSize) }
        guard c.numChannels > 0, c.numChannels <= 16 else { throw bad("num_channels", c.numChannels) }
        guard c.hiddenSize > 0 else { throw bad("hidden_size", c.hiddenSize) }
        config = c
        let d = c.hiddenSize
        classEmbedding = try w.tensor("embeddings.class_embedding", [d])
        patchEmbedding = try w.matrix("embeddings.patch_embedding.weight", [d, c.numChannels, c.patchSize, c.patchSize])
        positionEmbedding = try w.tensor("embeddings.position_embedding.weight", [c.gridSize * c.gridSize + 1, d])
        preLayerNorm = try LayerNorm(w, "pre_layrnorm", dim: d, eps: c.layerNormEps)
        encoder = try CLIPEncoder(w, component: "CLIPVisionModel", layers: c.numHiddenLayers, hiddenSize: d,
                                  intermediateSize: c.intermediateSize, heads: c.numAttentionHeads,
                                  hiddenAct: c.hiddenAct, layerNormEps: c.layerNormEps)
        postLayerNorm = try LayerNorm(w, "post_layernorm", dim: d, eps: c.layerNormEps)
    }

    var patchGeometry: Conv2DGeometry {
        Conv2DGeometry(inChannels: config.numChannels, outChannels: config.hiddenSize, kernel: config.patchSize,
                       stride: config.patchSize)
    }

    /// pixel_values [channels, image_size, image_size] (or with a batch of one in front) →
    /// (last_hidden_state [1 + grid², hidden], pooler_output [hidden]).
    public func callAsFunction(_ pixelValues: Tensor) throws -> (lastHiddenState: Tensor, pooledOutput: [Float]) {
        let c = config, s = c.imageSize, d = c.hiddenSize
        let expected = [c.numChannels, s, s]
        guard pixelValues.shape == expected || pixelValues.shape == [1] + expected else {
            throw DiffusionError.badInput("CLIP vision tower takes pixel values \(expected), got \(pixelValues.shape)")
        }
        let patches = c.gridSize * c.gridSize, tokens = patches + 1
        // The patch convolution gives [hidden, grid²] (NCHW); tokens are rows, so transpose to [grid², hidden].
        let conv = Tensor(shape: [1, d, c.gridSize, c.gridSize])
        conv2d(pixelValues.data, batch: 1, height: s, width: s, weight: patchEmbedding, bias: nil,
               geometry: patchGeometry, output: conv.data, scratch: convScratch)
        let patchRows = transposeLastTwo(conv, batch: 1, rows: d, cols: patches)
        let x = Tensor(shape: [tokens, d])
        x.data.update(from: classEmbedding.data, count: d)
        (x.data + d).update(from: patchRows.data, count: patches * d)
        addInPlace(x.data, positionEmbedding.data, count: tokens * d)
        let last = encoder(preLayerNorm(x, rows: tokens), rows: tokens, causal: false)
        let classState = Tensor(shape: [1, d])
        classState.data.update(from: last.data, count: d)
        return (last, postLayerNorm(classState, rows: 1).scalars)
    }
}

/// `CLIPVisionModelWithProjection`: the vision tower and `visual_projection` (no bias), which maps the pooled
/// output into the space shared with the text tower. CLIPModel files hold the same names ("vision_model.*",
/// "visual_projection.weight"), so one loader serves both layouts.
public final class CLIPVisionModelWithProjection {
    public let visionModel: CLIPVisionModel
    let visualProjection: Linear      // [projectionDim, hidden]

    public struct Output {
        public let lastHiddenState: Tensor   // [1 + grid², hidden]
        public let pooledOutput: [Float]     // [hidden]
        public let imageEmbeds: [Float]      // [projectionDim], not normalised
    }

    /// A transformers CLIPVisionModelWithProjection folder: config.json and model.safetensors.
    public convenience init(directory: URL) throws {
        let config = try decodeConfig(CLIPVisionConfiguration.self, at: directory.appendingPathComponent("config.json"))
        let store = try openWeights(path: directory.path)
        try self.init(config: config, projectionDim: config.projectionDim, weights: Weights(store))
    }

    /// `w` holds "vision_model.*" and "visual_projection.weight" at its root.
    init(config: CLIPVisionConfiguration, projectionDim: Int, weights w: Weights) throws {
        guard projectionDim > 0 else {
            throw DiffusionError.unsupported(component: "CLIPVisionModelWithProjection", key: "projection_dim",
                                             value: "\(projectionDim)")
        }
        visionModel = try CLIPVisionModel(config: config, weights: w.scoped("vision_model."))
        visualProjection = try Linear(w, "visual_projection", in: config.hiddenSize, out: projectionDim, bias: false)
    }

    public var config: CLIPVisionConfiguration { visionModel.config }
    public var projectionDim: Int { visualProjection.outFeatures }

    public func callAsFunction(_ pixelValues: Tensor) throws -> Output {
        let (last, pooled) = try visionModel(pixelValues)
        let embeds = pooled.withUnsafeBufferPointer { p in
            let y = Tensor(shape: [1, projectionDim])
            visualProjection(p.baseAddress!, rows: 1, y.data)
            return y.scalars
        }
        return Output(lastHiddenState: last, pooledOutput: pooled, imageEmbeds: embeds)
    }
}
