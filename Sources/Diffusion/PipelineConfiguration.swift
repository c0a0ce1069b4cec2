import Foundation
import Tensors

/// One text-to-image (or image-to-image) request: the per-request parameters, kept apart from the
/// checkpoint's architecture configs.
public struct GenerationRequest: Sendable {
    /// One prompt per image group; each gets `imagesPerPrompt` images.
    public var prompts: [String]
    /// Empty by default, as diffusers' (an empty negative prompt still conditions the unconditional half).
    public var negativePrompt = ""
    public var imagesPerPrompt = 1
    public var steps = 20
    /// Classifier-free guidance scale; ≤ 1 turns guidance off (one UNet batch instead of two).
    public var guidanceScale: Float = 7.5
    public var seed: UInt64 = 0
    public var scheduler: SchedulerKind = .pndm
    /// DDIM's eta (0: deterministic).
    public var eta: Float = 0
    /// Pixel size, multiples of the VAE's downscale factor (8 for SD v1); nil: the UNet's sample size × 8.
    public var width: Int?
    public var height: Int?
    public var random: RandomSourceKind = .torch
    /// img2img: the starting picture (resized to width × height if needed, by nearest sampling) and how much
    /// of the schedule to run over it (1: start from pure noise).
    public var initImage: RGBImage?
    public var strength: Double = 0.8
    /// Text states to use instead of the CLIP encoder's, [prompts, L, crossAttentionDim] (Easel's LLM
    /// encoder); the negative states then come from `negativeStates` or from CLIP for `negativePrompt`.
    public var promptStates: Tensor?
    public var negativeStates: Tensor?
    /// Start from these latents instead of drawing them (diffusers' `latents=`); [images, 4, h, w].
    public var initialLatents: Tensor?

    public init(prompt: String) { prompts = [prompt] }
    public init(prompts: [String]) { self.prompts = prompts }
}

/// Reported after every denoising step; returning false from the callback cancels the generation.
public struct GenerationProgress: Sendable {
    public let step: Int
    public let totalSteps: Int
    public let elapsed: TimeInterval
}

public struct GenerationResult {
    /// Decoded images [images, 3, H, W] in [0, 1] (diffusers' output_type "pt"/"np" before 8-bit rounding).
    public let pixels: Tensor
    public let images: [RGBImage]
    public let width: Int
    public let height: Int
}
