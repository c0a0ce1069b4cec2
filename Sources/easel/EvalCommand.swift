import ArgumentParser
import Diffusion
import Evaluation
import Foundation
import Tensors

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a drawing model on captions with known ground truth.", subcommands: [EvalImages.self])
}

struct EvalImages: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Draw held-out captions and report attribute accuracy, CLIP similarity and a Fréchet distance.",
        discussion: """
            Attribute accuracy (colour, shape, size, position of each object; background; relations; object count) \
            is read from the pixels by a deterministic analyser of easel-mini's synthetic domain, separately for \
            one- and two-object scenes, judging only what each caption states. CLIP similarity is the mean cosine \
            of each drawing's and its caption's CLIP embeddings; the Fréchet distance compares the CLIP image \
            embeddings of the drawings with those of the real images of the same captions (the paper's Table 1, \
            on this domain). The real-image values are printed beside them as the ceiling and floor.

            With --reconstruct nothing is drawn: each caption's real image makes a round trip through the model's \
            autoencoder, and the same scores show what the latent space keeps, the ceiling of the drawings.
            """)

    @Option(help: "Drawing model: a diffusers folder (default: \(DefaultDrawModel.folder), or $EASEL_SD_MODEL).") var model: String?
    @Option(help: "Prompt encoder: clip (the model's own text encoder).") var encoder = "clip"
    @Option(help: "Captions with ground truth, one JSON object a line, and a .png sheet of the real images beside it (default: <model>/eval/heldout.jsonl).")
    var captions: String?
    @Option(help: "A second real set for the Fréchet floor (default: val.jsonl beside the captions, when there).") var reference: String?
    @Option(help: "CLIP model for similarity and Fréchet distance: a CLIP folder, or none (default: the model folder when it has vision_model/).")
    var clip: String?
    @Option(help: "How many captions, from the top of the file (default: all).") var count: Int?
    @Option(help: "Denoising steps.") var steps = 20
    @Option(help: "Classifier-free guidance scale (default: the model's easel.json, else 7.5).") var guidance: Float?
    @Option(help: "Seed of the first caption; caption k uses seed + k.") var seed: UInt64 = 0
    @Option(help: "Sampler: \(SchedulerKind.allCases.map(\.rawValue).joined(separator: ", ")).") var scheduler: SchedulerKind = .pndm
    @Option(help: "Also write every drawing into this folder (NNNNN.png), and what the analyser read from each into analysis.jsonl there.") var save: String?
    @Flag(help: "Score the model's autoencoder instead of drawing: each real image, encoded and decoded by the VAE.")
    var reconstruct = false
    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "Threads for every kernel (default: one per core, or $EASEL_THREADS).") var threads: Int?

    func validate() throws {
        guard encoder == "clip" else {
            throw ValidationError("--encoder must be clip: it is the only prompt encoder Easel has for drawing today")
        }
        guard steps >= 1, steps <= 1000 else { throw ValidationError("--steps must be in 1…1000") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
    }

    func run() throws {
        if let threads { Parallel.configure(threads: threads) }
        let modelURL = URL(fileURLWithPath: model ?? DefaultDrawModel.path)
        let captionsURL = captions.map { URL(fileURLWithPath: $0) } ?? modelURL.appendingPathComponent("eval/heldout.jsonl")
        let set = try EvaluationSet(jsonl: captionsURL)
        let referenceURL = reference.map { URL(fileURLWithPath: $0) }
            ?? captionsURL.deletingLastPathComponent().appendingPathComponent("val.jsonl")
        let referenceSet = referenceURL == captionsURL || !FileManager.default.fileExists(atPath: referenceURL.path)
            ? nil : try EvaluationSet(jsonl: referenceURL)
        let embedder = try loadEmbedder(model: modelURL)
        let pipeline = try loadDrawPipeline(modelURL.path, tokenizer: nil)
        if let save { try FileManager.default.createDirectory(atPath: save, withIntermediateDirectories: true) }

        let total = min(count ?? set.truths.count, set.truths.count)
        let realImages = reconstruct ? set.images : nil
        if reconstruct, realImages == nil {
            throw ValidationError("--reconstruct needs the real images: \(captionsURL.path) has no .png sheet beside it")
        }
        let guidance = self.guidance ?? pipeline.defaults.guidance
        func drawing(_ caption: String, _ seed: UInt64) throws -> RGBImage {
            var request = GenerationRequest(prompt: caption)
            request.steps = steps
            request.guidanceScale = guidance
            request.seed = seed
            request.scheduler = scheduler
            return try pipeline.generate(request).images[0]
        }
        let report = try ImageEvaluation.run(set: set, count: total, seed: seed, embedder: embedder, reference: referenceSet,
            draw: { index, caption, seed in
                let image = try realImages.map { try pipeline.reconstruct($0[index]) } ?? drawing(caption, seed)
                if let save {
                    try image.writePNG(to: URL(fileURLWithPath: save).appendingPathComponent(String(format: "%05d.png", index)))
                }
                return image
            },
            progress: { done, total in
                if isatty(2) != 0 { FileHandle.standardError.write(Data("\r\(reconstruct ? "reconstructed" : "drawn") \(done)/\(total) ".utf8)) }
            })
        if isatty(2) != 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        if let save { try writeAnalyses(report, set: set, to: URL(fileURLWithPath: save).appendingPathComponent("analysis.jsonl")) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(table(report, guidance: guidance))
        }
    }

    /// One line a drawing: its caption, and the background and objects the analyser read from it.
    func writeAnalyses(_ report: ImageEvaluationReport, set: EvaluationSet, to url: URL) throws {
        struct Line: Encodable { var index: Int; var caption: String; var seen: SceneAnalysis }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var text = ""
        for (k, scene) in report.scenes.enumerated() {
            let line = Line(index: k, caption: set.truths[k].caption, seen: scene)
            text += String(decoding: try encoder.encode(line), as: UTF8.self) + "\n"
        }
        try Data(text.utf8).write(to: url)
    }

    func loadEmbedder(model: URL) throws -> ImageTextEmbedder? {
        if clip == "none" { return nil }
        let folder = clip.map { URL(fileURLWithPath: $0) } ?? model
        if clip == nil, !FileManager.default.fileExists(atPath: folder.appendingPathComponent("vision_model").path) { return nil }
        return try CLIPModel(directory: folder)
    }

    func table(_ r: ImageEvaluationReport, guidance: Float) -> String {
        func cell(_ t: Tally) -> String {
            guard let a = t.accuracy, let i = t.interval else { return "      —" }
            return String(format: "%5.1f%% (%d/%d; 95%%: %.0f-%.0f%%)", 100 * a, t.correct, t.total,
                          100 * i.lowerBound, 100 * i.upperBound)
        }
        var lines = [(reconstruct ? "\(r.images) real images through the model's autoencoder, "
                      : "\(r.images) captions, \(steps) steps, guidance \(guidance), \(scheduler.rawValue), ")
                     + String(format: "%.2f s an image", r.secondsPerImage)]
        for (name, a) in [("one object", r.attributes.oneObject), ("two objects", r.attributes.twoObjects)] where a.images > 0 {
            lines.append("\(name) (\(a.images) images):")
            for (attribute, tally) in [("colour", a.colour), ("shape", a.shape), ("size", a.size), ("position", a.position),
                                       ("background", a.background), ("relation", a.relation), ("object count", a.objectCount)]
            where tally.total > 0 {
                lines.append("  " + attribute.padding(toLength: 13, withPad: " ", startingAt: 0) + cell(tally))
            }
        }
        if let s = r.clipSimilarity {
            lines.append(String(format: "CLIP similarity %.4f (real images: %.4f)", s, r.clipSimilarityReal ?? .nan))
        }
        if let f = r.frechetDistance {
            lines.append(String(format: "Fréchet distance of CLIP image features %.4f (real vs real: %.4f)", f, r.frechetDistanceReference ?? .nan))
        }
        return lines.joined(separator: "\n")
    }
}
