import ArgumentParser
import Diffusion
import Foundation
import Tensors

extension SchedulerKind: ExpressibleByArgument {}
extension RandomSourceKind: ExpressibleByArgument {}

/// The default drawing model: easel-mini, trained in this repository and committed at its root (a diffusers
/// folder), or $EASEL_SD_MODEL.
enum DefaultDrawModel {
    static let folder = "easel-mini"
    static var path: String { DefaultModels.locate(folder, environment: "EASEL_SD_MODEL") }
}

struct Draw: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw pictures with a Stable Diffusion v1.x model (diffusers folder); prints the written paths.")

    @Option(help: "What to draw.") var prompt: String
    @Option(help: "What to steer away from (default: empty).") var negativePrompt = ""
    @Option(help: "Denoising steps.") var steps = 20
    @Option(help: "Classifier-free guidance scale, ≤ 1 turns guidance off (default: the model's easel.json, else 7.5).") var guidance: Float?
    @Option(help: "Random seed (default: a fresh one, written into the image).") var seed: UInt64?
    @Option(help: "Sampler: \(SchedulerKind.allCases.map(\.rawValue).joined(separator: ", ")).") var scheduler: SchedulerKind = .pndm
    @Option(help: "Image width in pixels, a multiple of 8 (default: the model's).") var width: Int?
    @Option(help: "Image height in pixels, a multiple of 8 (default: the model's).") var height: Int?
    @Option(help: "Number of images.") var count = 1
    @Option(help: "Starting picture (PNG) for image-to-image.") var initImage: String?
    @Option(help: "How far to noise the starting picture, in (0, 1].") var strength: Double = 0.8
    @Option(help: "Random source: torch (same images as diffusers for a seed) or easel.") var rng: RandomSourceKind = .torch
    @Option(help: "Model: a diffusers folder (default: \(DefaultDrawModel.folder), or $EASEL_SD_MODEL) or a single-file SD v1 .safetensors.") var model: String?
    @Option(help: "Tokenizer folder for a single-file checkpoint (default: the default model's tokenizer/).") var tokenizer: String?
    @Option(help: "Output file (default: out/easel-NNNNN.png); with --count N, name-1.png … name-N.png.") var out: String?
    @Option(help: "Threads for every kernel (default: one per core, or $EASEL_THREADS).") var threads: Int?

    func validate() throws {
        guard steps >= 1, steps <= 1000 else { throw ValidationError("--steps must be in 1…1000") }
        guard count >= 1, count <= 64 else { throw ValidationError("--count must be in 1…64") }
        guard strength > 0, strength <= 1 else { throw ValidationError("--strength must be in (0, 1]") }
        if let w = width, w <= 0 || w % 8 != 0 { throw ValidationError("--width must be a positive multiple of 8") }
        if let h = height, h <= 0 || h % 8 != 0 { throw ValidationError("--height must be a positive multiple of 8") }
        if initImage == nil, strength != 0.8 { throw ValidationError("--strength needs --init-image") }
    }

    func run() throws {
        if let threads { Parallel.configure(threads: threads) }
        let modelPath = model ?? DefaultDrawModel.path
        let pipeline = try loadDrawPipeline(modelPath, tokenizer: tokenizer)
        var request = GenerationRequest(prompt: prompt)
        request.negativePrompt = negativePrompt
        request.imagesPerPrompt = count
        request.steps = steps
        let guidance = self.guidance ?? pipeline.defaults.guidance
        request.guidanceScale = guidance
        request.seed = seed ?? UInt64.random(in: 0..<(1 << 32))
        request.scheduler = scheduler
        request.width = width
        request.height = height
        request.random = rng
        if let initImage {
            request.initImage = try PNGCodec.decode(contentsOf: URL(fileURLWithPath: initImage))
            request.strength = strength
        }
        let bar = ProgressBar(enabled: isatty(2) != 0)
        let result = try pipeline.generate(request) { bar.update($0); return true }
        bar.finish()
        let paths = try outputPaths(count: result.images.count)
        let modelName = URL(fileURLWithPath: modelPath).standardizedFileURL.lastPathComponent
        for (i, image) in result.images.enumerated() {
            var meta = ImageMetadata(prompt: prompt, negativePrompt: negativePrompt, steps: steps, sampler: scheduler,
                                     guidanceScale: guidance, seed: request.seed, width: result.width, height: result.height,
                                     model: modelName, textEncoder: "CLIP", random: rng)
            meta.batchSize = result.images.count
            meta.batchPosition = i
            if initImage != nil { meta.denoisingStrength = strength }
            try image.writePNG(to: paths[i], text: meta.textChunks)
            print(paths[i].path)
        }
    }

    /// The files to write: --out (numbered when several), or the next free out/easel-NNNNN.png names.
    /// Existing files are never replaced: writePNG refuses them.
    func outputPaths(count: Int) throws -> [URL] {
        if let out {
            let url = URL(fileURLWithPath: out)
            guard count > 1 else { return [url] }
            let stem = url.deletingPathExtension().path, ext = url.pathExtension.isEmpty ? "png" : url.pathExtension
            return (1...count).map { URL(fileURLWithPath: "\(stem)-\($0).\(ext)") }
        }
        let dir = URL(fileURLWithPath: "out")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var urls: [URL] = []
        var n = 1
        while urls.count < count {
            let candidate = dir.appendingPathComponent(String(format: "easel-%05d.png", n))
            if !FileManager.default.fileExists(atPath: candidate.path) { urls.append(candidate) }
            n += 1
        }
        return urls
    }
}

/// A diffusers folder, or a single-file checkpoint with SD v1's architecture and a tokenizer from elsewhere.
func loadDrawPipeline(_ path: String, tokenizer: String?) throws -> StableDiffusionPipeline {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
        let tokenizerDirectory = tokenizer ?? URL(fileURLWithPath: DefaultDrawModel.path).appendingPathComponent("tokenizer").path
        return try StableDiffusionPipeline(singleFile: URL(fileURLWithPath: path), tokenizer: URL(fileURLWithPath: tokenizerDirectory))
    }
    return try StableDiffusionPipeline(directory: URL(fileURLWithPath: path))
}

/// "step 7/20  1.85 it/s  ETA 7s" on one stderr line, redrawn in place; silent when stderr is not a terminal.
final class ProgressBar {
    let enabled: Bool
    init(enabled: Bool) { self.enabled = enabled }

    func update(_ p: GenerationProgress) {
        guard enabled else { return }
        let rate = p.elapsed > 0 ? Double(p.step) / p.elapsed : 0
        let eta = rate > 0 ? Double(p.totalSteps - p.step) / rate : 0
        let width = 24, filled = width * p.step / max(p.totalSteps, 1)
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write(Data(String(format: "\r%@ step %d/%d  %.2f it/s  ETA %.0fs ", bar, p.step, p.totalSteps, rate, eta).utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
