import ArgumentParser
import Diffusion
import Foundation
import Tensors

/// `easel bench sd`: the Stable Diffusion engine's hot parts, timed with the shapes of a real generation.
/// bench/sd_bench.sh runs this beside diffusers/PyTorch with the same thread count and shapes.
struct BenchSD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sd",
        abstract: "Time text encoding, one UNet step (batch 2, as with guidance) and VAE decode; report peak RSS.")

    @Option(help: "Model folder (default: \(DefaultDrawModel.folder), or $EASEL_SD_MODEL).") var model: String?
    @Option(help: "Timed runs of each part; the median is reported.") var runs = 3
    @Option(help: "Text positions fed to the UNet's cross-attention.") var textPositions = 77
    @Option(help: "Image size in pixels (default: the model's).") var size: Int?
    @Option(help: "Also time a whole generation of this many steps (0: skip).") var fullSteps = 0
    @Option(help: "Threads for every kernel (default: one per core, or $EASEL_THREADS).") var threads: Int?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard runs >= 1, runs <= 100, textPositions >= 1, textPositions <= 4096, fullSteps >= 0 else {
            throw ValidationError("--runs in 1…100, --text-positions in 1…4096, --full-steps ≥ 0")
        }
    }

    func run() throws {
        if let threads { Parallel.configure(threads: threads) }
        let clock = ContinuousClock()
        let t0 = clock.now
        let pipeline = try loadDrawPipeline(model ?? DefaultDrawModel.path, tokenizer: nil)
        let load = seconds(t0, clock.now)
        let f = pipeline.vae.config.downscaleFactor
        let pixels = size ?? pipeline.defaultSize
        guard pixels % f == 0 else { throw ValidationError("--size must be a multiple of \(f)") }
        let latentSize = pixels / f, d = pipeline.unet.crossAttentionDim
        let channels = pipeline.unet.config.inChannels

        // Deterministic inputs, the same shapes diffusers gets in bench/sd_bench.py.
        var random: any RandomSource = TorchRandomSource(seed: 0)
        let latents = random.normal(shape: [2, channels, latentSize, latentSize])
        let states = random.normal(shape: [2, textPositions, d])
        let decodeLatents = random.normal(shape: [1, pipeline.vae.config.latentChannels, latentSize, latentSize])

        var text: [Double] = [], unetStep: [Double] = [], decode: [Double] = []
        for _ in 0..<runs {
            var a = clock.now
            _ = try pipeline.encode(prompts: ["a photograph of an astronaut riding a horse on the moon, detailed, 8k"])
            text.append(seconds(a, clock.now))
            a = clock.now
            _ = try pipeline.unet(latents, timestep: 999, encoderHiddenStates: states)
            unetStep.append(seconds(a, clock.now))
            a = clock.now
            _ = try pipeline.vae.decode(decodeLatents)
            decode.append(seconds(a, clock.now))
        }
        var full: Double?
        if fullSteps > 0 {
            var r = GenerationRequest(prompt: "a photograph of an astronaut riding a horse")
            r.steps = fullSteps
            r.width = pixels
            r.height = pixels
            let a = clock.now
            _ = try pipeline.generate(r)
            full = seconds(a, clock.now)
        }
        let rss = peakRSSMegabytes()
        if json {
            var object: [String: Any] = [
                "load_s": load, "text_encode_s": median(text), "unet_step_s": median(unetStep), "vae_decode_s": median(decode),
                "peak_rss_mb": rss, "threads": Parallel.threadCount, "size": pixels, "text_positions": textPositions, "runs": runs]
            if let full { object["generate_s"] = full; object["generate_steps"] = fullSteps }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "load %.2fs; text encode %.3fs; UNet step (batch 2, %dx%d latents, %d text positions) %.3fs; VAE decode %.3fs (medians of %d, %d threads)",
                         load, median(text), latentSize, latentSize, textPositions, median(unetStep), median(decode), runs, Parallel.threadCount))
            if let full { print(String(format: "generation of %d steps at %dx%d: %.2fs", fullSteps, pixels, pixels, full)) }
            print(String(format: "peak RSS %.0f MB", rss))
        }
    }
}
