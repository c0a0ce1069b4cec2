// Port of diffusers/src/diffusers/pipelines/stable_diffusion/pipeline_stable_diffusion.py and
// pipeline_stable_diffusion_img2img.py (diffusers 0.42.1), CPU only.
import Foundation
import Tensors
import WeightIO

/// Text-to-image (and image-to-image) with a Stable Diffusion v1.x checkpoint in the diffusers folder layout:
/// model_index.json, tokenizer/, text_encoder/, unet/, vae/, scheduler/. fp16 weights (the `fp16` variant
/// files, or fp16 tensors in the plain files) stay fp16 in memory, mapped from disk, and are widened as used.
public final class StableDiffusionPipeline {
    public let directory: URL
    public let tokenizer: CLIPTokenizer
    public let textEncoder: CLIPTextModel
    public let unet: UNet2DConditionModel
    public let vae: AutoencoderKL
    public let schedulerConfig: SchedulerConfiguration
    /// From the folder's optional easel.json.
    public let defaults: DrawingDefaults

    /// `variant` prefers those weight files ("fp16"); nil prefers full precision but takes fp16 alone.
    public init(directory: URL, variant: String? = nil) throws {
        self.directory = directory
        let index = directory.appendingPathComponent("model_index.json")
        guard FileManager.default.fileExists(atPath: index.path) else {
            throw DiffusionError.badConfig(path: index.path, reason: "missing: not a diffusers pipeline folder")
        }
        let object = try? JSONSerialization.jsonObject(with: Data(contentsOf: index)) as? [String: Any]
        guard let object else { throw DiffusionError.badConfig(path: index.path, reason: "not a JSON object") }
        if let name = object["_class_name"] as? String,
           !["StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline"].contains(name) {
            throw DiffusionError.unsupported(component: "model_index.json", key: "_class_name", value: name)
        }
        tokenizer = try CLIPTokenizer(directory: directory.appendingPathComponent("tokenizer"))
        textEncoder = try CLIPTextModel(directory: directory.appendingPathComponent("text_encoder"), variant: variant)
        unet = try UNet2DConditionModel(directory: directory.appendingPathComponent("unet"), variant: variant)
        vae = try AutoencoderKL(directory: directory.appendingPathComponent("vae"), variant: variant)
        schedulerConfig = try SchedulerConfiguration.load(
            contentsOf: directory.appendingPathComponent("scheduler/scheduler_config.json"))
        defaults = try DrawingDefaults.load(directory: directory)
        guard textEncoder.config.hiddenSize == unet.crossAttentionDim else {
            throw DiffusionError.badConfig(path: directory.path, reason:
                "text encoder width \(textEncoder.config.hiddenSize) ≠ UNet cross_attention_dim \(unet.crossAttentionDim)")
        }
    }

    init(directory: URL, tokenizer: CLIPTokenizer, textEncoder: CLIPTextModel, unet: UNet2DConditionModel,
         vae: AutoencoderKL, schedulerConfig: SchedulerConfiguration) throws {
        guard textEncoder.config.hiddenSize == unet.crossAttentionDim else {
            throw DiffusionError.badConfig(path: directory.path, reason:
                "text encoder width \(textEncoder.config.hiddenSize) ≠ UNet cross_attention_dim \(unet.crossAttentionDim)")
        }
        self.directory = directory
        self.tokenizer = tokenizer
        self.textEncoder = textEncoder
        self.unet = unet
        self.vae = vae
        self.schedulerConfig = schedulerConfig
        defaults = DrawingDefaults()
    }

    /// Pixel size when a request names none: the UNet's sample_size × the VAE's factor (512 for SD v1).
    public var defaultSize: Int { unet.config.sampleSize * vae.config.downscaleFactor }

    /// CLIP's last hidden state for each prompt, [prompts, 77, hidden].
    public func encode(prompts: [String]) throws -> Tensor {
        let length = tokenizer.maxLength, d = textEncoder.config.hiddenSize
        let states = Tensor(shape: [prompts.count, length, d])
        for (i, p) in prompts.enumerated() {
            let h = try textEncoder(tokenizer.encodePadded(p))
            (states.data + i * length * d).update(from: h.data, count: length * d)
        }
        return states
    }

    public func generate(_ r: GenerationRequest, progress: (GenerationProgress) -> Bool = { _ in true }) throws -> GenerationResult {
        let started = Date()
        let f = vae.config.downscaleFactor
        let width = r.width ?? defaultSize, height = r.height ?? defaultSize
        guard width > 0, height > 0, width % f == 0, height % f == 0, width <= 4096, height <= 4096 else {
            throw DiffusionError.badInput("width and height must be multiples of \(f) in \(f)...4096, got \(width)x\(height)")
        }
        guard !r.prompts.isEmpty, r.imagesPerPrompt >= 1, r.prompts.count * r.imagesPerPrompt <= 64 else {
            throw DiffusionError.badInput("need 1...64 images, got \(r.prompts.count) prompts × \(r.imagesPerPrompt)")
        }
        guard r.steps >= 1, r.steps <= 1000 else { throw DiffusionError.badInput("steps must be in 1...1000, got \(r.steps)") }
        guard r.guidanceScale.isFinite, r.strength.isFinite, r.strength > 0, r.strength <= 1 else {
            throw DiffusionError.badInput("guidance must be finite and strength in (0, 1]")
        }
        let count = r.prompts.count * r.imagesPerPrompt
        let useGuidance = r.guidanceScale > 1
        let d = unet.crossAttentionDim

        // Text states: [count, L, d] for the prompts, the same for the negative prompt.
        let cond: Tensor
        if let s = r.promptStates {
            guard s.rank == 3, s.shape[0] == r.prompts.count, s.shape[2] == d, s.shape[1] > 0 else {
                throw DiffusionError.badInput("prompt states must be [\(r.prompts.count), L, \(d)], got \(s.shape)")
            }
            cond = s
        } else {
            cond = try encode(prompts: r.prompts)
        }
        let condPerImage = repeatRows(cond, times: r.imagesPerPrompt)
        var context = condPerImage
        if useGuidance {
            var uncond: Tensor
            if let s = r.negativeStates {
                guard s.rank == 3, s.shape[2] == d, s.shape[0] == 1 || s.shape[0] == r.prompts.count else {
                    throw DiffusionError.badInput("negative states must be [1 or \(r.prompts.count), L, \(d)], got \(s.shape)")
                }
                uncond = s.shape[0] == 1 ? repeatRows(s, times: r.prompts.count) : s
            } else {
                uncond = try encode(prompts: [String](repeating: r.negativePrompt, count: r.prompts.count))
            }
            uncond = repeatRows(uncond, times: r.imagesPerPrompt)
            guard uncond.shape[1] == condPerImage.shape[1] else {
                throw DiffusionError.badInput("negative states have \(uncond.shape[1]) positions, prompt states \(condPerImage.shape[1])")
            }
            context = concatBatch(uncond, condPerImage)
        }

        var scheduler = try r.scheduler.make(config: schedulerConfig, stepCount: r.steps, eta: r.eta)
        var random = r.random.make(seed: r.seed)
        let latentShape = [count, unet.config.inChannels, height / f, width / f]
        var latents: Tensor
        var firstStep = 0
        if let image = r.initImage {
            // img2img: encode, sample the latent distribution, noise it to the strength's first timestep.
            let steps = r.steps
            let initSteps = min(Int(Double(steps) * r.strength), steps)
            firstStep = max(steps - initSteps, 0)
            guard firstStep < scheduler.timesteps.count else {
                throw DiffusionError.badInput("strength \(r.strength) leaves no denoising steps out of \(steps)")
            }
            let pixels = imageTensor(image.resized(width: width, height: height))
            let (mean, logvar) = try vae.encode(pixels)
            let eps = random.normal(shape: mean.shape)
            let initLatents = Tensor(shape: mean.shape)
            for i in 0..<mean.count {
                initLatents[i] = (mean[i] + expf(0.5 * logvar[i]) * eps[i]) * vae.config.scalingFactor
            }
            let repeated = repeatRows(initLatents, times: count)
            let noise = random.normal(shape: latentShape)
            latents = scheduler.addNoise(original: repeated, noise: noise, stepIndex: firstStep)
        } else if let given = r.initialLatents {
            guard given.shape == latentShape else {
                throw DiffusionError.badInput("initial latents must be \(latentShape), got \(given.shape)")
            }
            latents = given.clone()
            let sigma = scheduler.initNoiseSigma
            for i in 0..<latents.count { latents[i] *= sigma }
        } else {
            latents = random.normal(shape: latentShape)
            let sigma = scheduler.initNoiseSigma
            for i in 0..<latents.count { latents[i] *= sigma }
        }

        let total = scheduler.timesteps.count - firstStep
        for (k, i) in (firstStep..<scheduler.timesteps.count).enumerated() {
            let t = scheduler.timesteps[i]
            let input = useGuidance ? concatBatch(latents, latents) : latents
            let scaled = scheduler.scaleModelInput(input, stepIndex: i)
            let predicted = try unet(scaled, timestep: t, encoderHiddenStates: context)
            let noise: Tensor
            if useGuidance {
                noise = Tensor(shape: latentShape)
                let n = noise.count, g = r.guidanceScale
                for j in 0..<n {
                    let u = predicted[j], c = predicted[n + j]
                    noise[j] = u + g * (c - u)
                }
            } else {
                noise = predicted
            }
            latents = scheduler.step(modelOutput: noise, stepIndex: i, sample: latents, random: &random)
            if !progress(GenerationProgress(step: k + 1, totalSteps: total, elapsed: Date().timeIntervalSince(started))) {
                throw DiffusionError.cancelled
            }
        }
        let inv = 1 / vae.config.scalingFactor
        for i in 0..<latents.count { latents[i] *= inv }
        if let shift = vae.config.shiftFactor { for i in 0..<latents.count { latents[i] += shift } }
        let decoded = try vae.decode(latents)
        for i in 0..<decoded.count { decoded[i] = min(max(decoded[i] / 2 + 0.5, 0), 1) }
        let images = (0..<count).map { rgbImage(decoded, index: $0) }
        return GenerationResult(pixels: decoded, images: images, width: width, height: height)
    }

    /// The picture after a round trip through the autoencoder (posterior mean, then decoder): all of the picture
    /// that the latent space keeps, so the ceiling of what a drawing can show. Sides must be multiples of the
    /// VAE's downscale factor.
    public func reconstruct(_ image: RGBImage) throws -> RGBImage {
        let f = vae.config.downscaleFactor
        guard image.width > 0, image.height > 0, image.width % f == 0, image.height % f == 0 else {
            throw DiffusionError.badInput("can't reconstruct a \(image.width)x\(image.height) image: sides must be positive multiples of \(f)")
        }
        let decoded = try vae.decode(try vae.encode(imageTensor(image)).mean)
        for i in 0..<decoded.count { decoded[i] = min(max(decoded[i] / 2 + 0.5, 0), 1) }
        return rgbImage(decoded, index: 0)
    }

    /// Frees the kernels' scratch buffers between images.
    public func releaseScratch() {
        unet.releaseScratch()
        vae.releaseScratch()
    }
}

/// x [B, …] → [B·times, …], each item repeated `times` times in place (torch's repeat_interleave on dim 0).
func repeatRows(_ x: Tensor, times: Int) -> Tensor {
    guard times > 1 else { return x }
    let per = x.count / x.shape[0]
    let y = Tensor(shape: [x.shape[0] * times] + x.shape.dropFirst())
    for b in 0..<x.shape[0] {
        for k in 0..<times { (y.data + (b * times + k) * per).update(from: x.data + b * per, count: per) }
    }
    return y
}

/// torch.cat([a, b]) along the batch dimension.
func concatBatch(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape.dropFirst() == b.shape.dropFirst(), "cat \(a.shape) with \(b.shape)")
    let y = Tensor(shape: [a.shape[0] + b.shape[0]] + a.shape.dropFirst())
    y.data.update(from: a.data, count: a.count)
    (y.data + a.count).update(from: b.data, count: b.count)
    return y
}

/// An 8-bit picture as the VAE's input: [1, 3, H, W] in [−1, 1] (diffusers' VaeImageProcessor, normalize on).
func imageTensor(_ image: RGBImage) -> Tensor {
    let plane = image.width * image.height
    let t = Tensor(shape: [1, 3, image.height, image.width])
    for p in 0..<plane {
        for c in 0..<3 { t[c * plane + p] = Float(image.pixels[p * 3 + c]) / 255 * 2 - 1 }
    }
    return t
}

/// Image `index` of [B, 3, H, W] in [0, 1] as 8-bit RGB: round(x·255), as diffusers' numpy_to_pil.
func rgbImage(_ pixels: Tensor, index: Int) -> RGBImage {
    let h = pixels.shape[2], w = pixels.shape[3], plane = h * w
    let base = pixels.data + index * 3 * plane
    var bytes = [UInt8](repeating: 0, count: plane * 3)
    for p in 0..<plane {
        for c in 0..<3 { bytes[p * 3 + c] = UInt8((base[c * plane + p] * 255).rounded(.toNearestOrEven)) }
    }
    return RGBImage(width: w, height: h, pixels: bytes)
}

extension RGBImage {
    /// Nearest-neighbour resize (identity when the size already matches).
    public func resized(width w: Int, height h: Int) -> RGBImage {
        if w == width && h == height { return self }
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            let sy = min(y * height / h, height - 1)
            for x in 0..<w {
                let sx = min(x * width / w, width - 1)
                for c in 0..<3 { out[(y * w + x) * 3 + c] = pixels[(sy * width + sx) * 3 + c] }
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}
