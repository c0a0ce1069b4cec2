import Diffusion
import Foundation
import Tensors

/// Turns a caption into the text states a Stable Diffusion UNet attends to. One seam, two encoders:
/// the drawing model's own CLIP text encoder now (`CLIPPromptEncoder`), the paper's LLaMA bridge
/// (adapters and mapping layers on the chat model's last hidden layer) when it lands.
public protocol TextEncoder: AnyObject {
    /// Written into each picture's metadata ("CLIP", "SmolLM2-135M + bridge").
    var name: String { get }
    /// [prompts.count, L, crossAttentionDim] states for the UNet's cross-attention.
    func encode(_ prompts: [String]) throws -> Tensor
}

/// The drawing model's own CLIP text encoder: exactly what the pipeline uses when given no states.
public final class CLIPPromptEncoder: TextEncoder {
    let pipeline: StableDiffusionPipeline
    public let name = "CLIP"

    public init(pipeline: StableDiffusionPipeline) { self.pipeline = pipeline }

    public func encode(_ prompts: [String]) throws -> Tensor { try pipeline.encode(prompts: prompts) }
}

/// One picture to draw, with the session's image settings.
public struct DrawRequest: Sendable, Equatable {
    public var caption: String
    public var negativePrompt = ""
    public var seed: UInt64
    public var steps: Int
    public var guidance: Float
    public var scheduler: SchedulerKind
    /// nil: the model's own size.
    public var width: Int?
    public var height: Int?

    public init(caption: String, seed: UInt64, steps: Int, guidance: Float, scheduler: SchedulerKind,
                width: Int? = nil, height: Int? = nil) {
        self.caption = caption
        self.seed = seed
        self.steps = steps
        self.guidance = guidance
        self.scheduler = scheduler
        self.width = width
        self.height = height
    }
}

/// A drawn picture and how it was made (written into its PNG).
public struct DrawnImage {
    public var image: RGBImage
    public var metadata: ImageMetadata
}

/// What a chat session draws with. `StableDiffusionDrawer` is the implementation; the protocol keeps
/// the session independent of how the text states are made.
public protocol ImageGenerating: AnyObject {
    /// "easel-mini", shown at start-up and written into the metadata.
    var modelName: String { get }
    var textEncoderName: String { get }
    /// The side of a picture when the session names no size.
    var defaultSize: Int { get }
    /// Draws one picture. `progress` is called after every denoising step; returning false stops the
    /// generation with `DiffusionError.cancelled`.
    func draw(_ request: DrawRequest, progress: (GenerationProgress) -> Bool) throws -> DrawnImage
}

/// Text-to-image with a Stable Diffusion v1 pipeline, its text states from a `TextEncoder`.
public final class StableDiffusionDrawer: ImageGenerating {
    public let pipeline: StableDiffusionPipeline
    public let encoder: any TextEncoder
    public let modelName: String

    /// The pipeline's own CLIP text encoder unless another `encoder` is given.
    public init(pipeline: StableDiffusionPipeline, encoder: (any TextEncoder)? = nil) {
        self.pipeline = pipeline
        self.encoder = encoder ?? CLIPPromptEncoder(pipeline: pipeline)
        modelName = pipeline.directory.standardizedFileURL.lastPathComponent
    }

    public var textEncoderName: String { encoder.name }
    public var defaultSize: Int { pipeline.defaultSize }

    public func draw(_ request: DrawRequest, progress: (GenerationProgress) -> Bool) throws -> DrawnImage {
        var r = GenerationRequest(prompt: request.caption)
        r.negativePrompt = request.negativePrompt
        r.steps = request.steps
        r.guidanceScale = request.guidance
        r.seed = request.seed
        r.scheduler = request.scheduler
        r.width = request.width
        r.height = request.height
        r.promptStates = try encoder.encode([request.caption])
        if request.guidance > 1 { r.negativeStates = try encoder.encode([request.negativePrompt]) }
        defer { pipeline.releaseScratch() }
        let result = try pipeline.generate(r, progress: progress)
        guard let image = result.images.first else { throw DiffusionError.badInput("the pipeline returned no image") }
        let metadata = ImageMetadata(
            prompt: request.caption, negativePrompt: request.negativePrompt, steps: request.steps,
            sampler: request.scheduler, guidanceScale: request.guidance, seed: request.seed,
            width: result.width, height: result.height, model: modelName, textEncoder: encoder.name, random: r.random)
        return DrawnImage(image: image, metadata: metadata)
    }
}
