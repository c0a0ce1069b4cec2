// The paper's Table 1 (FID, CLIP similarity) on easel-mini's domain, plus attribute accuracy read from pixels.
import Diffusion
import Foundation

/// An image-text embedding model (CLIP): what CLIP similarity and the Fréchet distance are measured with.
public protocol ImageTextEmbedder {
    func imageEmbedding(_ image: RGBImage) throws -> [Float]
    func textEmbedding(_ text: String) throws -> [Float]
}

public struct ImageEvaluationReport: Codable, Sendable {
    public var images: Int
    public var attributes: Scorecard
    /// Mean cosine similarity of each drawing with its caption; `real` is the same for the dataset's own images.
    public var clipSimilarity: Double?
    public var clipSimilarityReal: Double?
    /// Fréchet distance of CLIP image embeddings, drawings vs the real images of the same captions; `reference`
    /// is the distance between two real sets (val vs held-out), the floor that sampling alone gives.
    public var frechetDistance: Double?
    public var frechetDistanceReference: Double?
    public var secondsPerImage: Double
    /// What the analyser read from each drawing, in caption order (not in the JSON summary; `--save` writes it).
    public var scenes: [SceneAnalysis] = []

    enum CodingKeys: String, CodingKey {
        case images, attributes, secondsPerImage = "seconds_per_image"
        case clipSimilarity = "clip_similarity", clipSimilarityReal = "clip_similarity_real"
        case frechetDistance = "frechet_distance", frechetDistanceReference = "frechet_distance_reference"
    }
}

public enum ImageEvaluation {
    /// Draws the first `count` captions of `set` (`draw` gets caption k's index k and seed `seed + k`), reads each
    /// drawing back with the scene analyser, and, given an embedder, scores CLIP similarity and the Fréchet
    /// distance against the set's real images (and, given `reference`, the real-vs-real floor).
    public static func run(set: EvaluationSet, count: Int, seed: UInt64, embedder: ImageTextEmbedder?,
                           reference: EvaluationSet? = nil,
                           draw: (_ index: Int, _ caption: String, _ seed: UInt64) throws -> RGBImage,
                           progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> ImageEvaluationReport {
        guard count >= 1 else { throw EvaluationError.badInput("--count must be at least 1") }
        let truths = Array(set.truths.prefix(count))
        let analyser = SceneAnalyser()
        var card = Scorecard()
        var drawings: [RGBImage] = []
        var scenes: [SceneAnalysis] = []
        var seconds = 0.0
        for (k, truth) in truths.enumerated() {
            let start = Date()
            let image = try draw(k, truth.caption, seed &+ UInt64(k))
            seconds += Date().timeIntervalSince(start)
            let scene = analyser.analyse(image)
            card.add(truth, scene)
            scenes.append(scene)
            drawings.append(image)
            progress(k + 1, truths.count)
        }
        var report = ImageEvaluationReport(images: truths.count, attributes: card, secondsPerImage: seconds / Double(truths.count))
        report.scenes = scenes
        guard let embedder else { return report }
        let texts = try truths.map { try embedder.textEmbedding($0.caption) }
        let drawn = try drawings.map { try embedder.imageEmbedding($0) }
        report.clipSimilarity = mean(zip(drawn, texts).map(cosine))
        if let real = set.images.map({ Array($0.prefix(truths.count)) }) {
            let realFeatures = try real.map { try embedder.imageEmbedding($0) }
            report.clipSimilarityReal = mean(zip(realFeatures, texts).map(cosine))
            if truths.count >= 2 {
                report.frechetDistance = try FrechetDistance.distance(drawn, realFeatures)
                if let other = reference?.images, other.count >= 2 {
                    let otherFeatures = try other.prefix(truths.count).map { try embedder.imageEmbedding($0) }
                    report.frechetDistanceReference = try FrechetDistance.distance(otherFeatures, realFeatures)
                }
            }
        }
        return report
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) { dot += Double(x * y); na += Double(x * x); nb += Double(y * y) }
        return na > 0 && nb > 0 ? dot / (na * nb).squareRoot() : 0
    }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }
}

extension CLIPModel: ImageTextEmbedder {}
