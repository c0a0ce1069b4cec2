import Diffusion
@testable import Evaluation
import Foundation
import XCTest

/// The evaluation loop with stand-in drawers whose answers are known: the real images (all right) and a
/// blank canvas (no objects), and a stand-in embedder (mean colour) so similarity and distance are exact.
final class ImageEvaluationTests: XCTestCase {
    func heldOut() throws -> EvaluationSet {
        try EvaluationSet(jsonl: SceneAnalyserTests.root.appendingPathComponent("easel-mini/eval/heldout.jsonl"))
    }

    /// Mean RGB as the "image embedding", and the caption's first colour word's palette value as the text one.
    struct MeanColourEmbedder: ImageTextEmbedder {
        func imageEmbedding(_ image: RGBImage) throws -> [Float] {
            var sum: [Float] = [0, 0, 0]
            for (i, p) in image.pixels.enumerated() { sum[i % 3] += Float(p) }
            return sum.map { $0 / Float(image.width * image.height) }
        }
        func textEmbedding(_ text: String) throws -> [Float] {
            let word = text.split(separator: " ").first { w in ShapeWorld.palette.contains { $0.name == w } } ?? "black"
            let rgb = ShapeWorld.palette.first { $0.name == word }!.rgb
            return [rgb.x, rgb.y, rgb.z]
        }
    }

    func testRealImagesScorePerfectAndSitAtDistanceZero() throws {
        let set = try heldOut()
        let images = try XCTUnwrap(set.images)
        // Captions repeat in the set, so the drawer finds caption k's image by its index (and seed + k is k here).
        let report = try ImageEvaluation.run(set: set, count: 40, seed: 0, embedder: MeanColourEmbedder(),
                                             draw: { k, _, seed in XCTAssertEqual(UInt64(k), seed); return images[k] })
        XCTAssertEqual(report.images, 40)
        for acc in [report.attributes.oneObject, report.attributes.twoObjects] {
            XCTAssertEqual(acc.colour.correct, acc.colour.total)
            XCTAssertEqual(acc.shape.correct, acc.shape.total)
        }
        XCTAssertEqual(report.attributes.oneObject.images + report.attributes.twoObjects.images, 40)
        // What was read from each drawing, in caption order.
        XCTAssertEqual(report.scenes.count, 40)
        for (truth, scene) in zip(set.truths, report.scenes) {
            XCTAssertEqual(scene.objects.map(\.shape).sorted(), truth.objects.map(\.shape).sorted(), truth.caption)
            XCTAssertEqual(scene.background, truth.background.colour)
        }
        XCTAssertEqual(try XCTUnwrap(report.frechetDistance), 0, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(report.clipSimilarity), try XCTUnwrap(report.clipSimilarityReal), accuracy: 1e-9)
    }

    func testBlankCanvasesScoreNothingAndDrift() throws {
        let set = try heldOut()
        let grey = RGBImage(width: 64, height: 64, pixels: [UInt8](repeating: 128, count: 64 * 64 * 3))
        var seeds: [UInt64] = []
        let report = try ImageEvaluation.run(set: set, count: 20, seed: 100, embedder: MeanColourEmbedder(),
                                             draw: { _, _, seed in seeds.append(seed); return grey })
        XCTAssertEqual(seeds, Array(100..<120), "caption k is drawn with seed + k")
        XCTAssertEqual(report.attributes.oneObject.colour.correct, 0)
        XCTAssertEqual(report.attributes.oneObject.objectCount.correct, 0)
        // A constant set has zero covariance: the distance is the real set's spread plus the mean shift.
        XCTAssertGreaterThan(try XCTUnwrap(report.frechetDistance), 100)
    }

    func testEvaluationSetErrorsNameTheFileAndProblem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("easel-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("none.jsonl")
        XCTAssertThrowsError(try EvaluationSet(jsonl: missing)) { XCTAssertTrue("\($0)".contains("none.jsonl")) }
        let bad = dir.appendingPathComponent("bad.jsonl")
        try Data("{\"caption\": \"a red circle\"}\n{not json\n".utf8).write(to: bad)
        XCTAssertThrowsError(try EvaluationSet(jsonl: bad)) { XCTAssertTrue("\($0)".contains("line 1"), "\($0)") }
        let empty = dir.appendingPathComponent("empty.jsonl")
        try Data("\n\n".utf8).write(to: empty)
        XCTAssertThrowsError(try EvaluationSet(jsonl: empty)) { XCTAssertTrue("\($0)".contains("no captions"), "\($0)") }
        // A sheet too small for its captions.
        let good = try String(contentsOf: SceneAnalyserTests.root.appendingPathComponent("easel-mini/eval/val.jsonl"), encoding: .utf8)
        let small = dir.appendingPathComponent("small.jsonl")
        try Data(good.utf8).write(to: small)
        try RGBImage(width: 64, height: 64, pixels: [UInt8](repeating: 0, count: 64 * 64 * 3))
            .writePNG(to: dir.appendingPathComponent("small.png"))
        XCTAssertThrowsError(try EvaluationSet(jsonl: small)) { XCTAssertTrue("\($0)".contains("sheet"), "\($0)") }
        XCTAssertThrowsError(try ImageEvaluation.run(set: try heldOut(), count: 0, seed: 0, embedder: nil, draw: { _, _, _ in
            XCTFail("nothing to draw"); throw EvaluationError.badInput("unreachable") }))
    }

    /// The Wilson interval against published values (0/10 → 0-0.2775, 81/263 → 0.2553-0.3662) and its edges.
    func testAccuracyIntervalIsWilsons() throws {
        func tally(_ correct: Int, _ total: Int) -> Tally {
            var t = Tally()
            for k in 0..<total { t.add(k < correct) }
            return t
        }
        XCTAssertNil(Tally().interval)
        let none = try XCTUnwrap(tally(0, 10).interval), all = try XCTUnwrap(tally(10, 10).interval)
        XCTAssertEqual(none.lowerBound, 0)
        XCTAssertEqual(none.upperBound, 0.27753, accuracy: 1e-5)
        XCTAssertEqual(all.lowerBound, 0.72247, accuracy: 1e-5)
        XCTAssertEqual(all.upperBound, 1, accuracy: 1e-12)
        let some = try XCTUnwrap(tally(81, 263).interval)
        XCTAssertEqual(some.lowerBound, 0.25529, accuracy: 1e-5)
        XCTAssertEqual(some.upperBound, 0.36621, accuracy: 1e-5)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(tally(81, 263))) as? [String: Any]
        XCTAssertEqual(try XCTUnwrap(json?["interval_low"] as? Double), some.lowerBound, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(json?["interval_high"] as? Double), some.upperBound, accuracy: 1e-12)
    }
}
