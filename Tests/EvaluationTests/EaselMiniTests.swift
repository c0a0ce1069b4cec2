import Diffusion
@testable import Evaluation
import Foundation
import XCTest

/// The committed easel-mini loads in Swift and draws what it is asked: fixed seeds, 20 PNDM steps, the model's
/// own guidance (3, its best on the validation set; at SD's 7.5 its colours wash out), the first one-object
/// captions of the validation set that name a background, read back by the scene analyser.
final class EaselMiniTests: XCTestCase {
    static let captions = 12
    /// Below easel-mini's measured accuracy (BENCHMARKS.md) with room for seed luck on 12 pictures, far above
    /// what a broken pipeline or wrong weights give (chance: 1/8 colours, 1/8 backgrounds).
    static let requiredColour = 9, requiredBackground = 8

    func testDrawsTheAskedColoursOnTheAskedBackgrounds() throws {
        let root = SceneAnalyserTests.root.appendingPathComponent("easel-mini")
        let pipeline = try StableDiffusionPipeline(directory: root)
        XCTAssertEqual(pipeline.defaultSize, 64)
        let set = try EvaluationSet(jsonl: root.appendingPathComponent("eval/val.jsonl"))
        let truths = set.truths.filter { $0.objects.count == 1 && $0.states("background") }.prefix(Self.captions)
        var card = Scorecard()
        for (k, truth) in truths.enumerated() {
            var request = GenerationRequest(prompt: truth.caption)
            request.seed = UInt64(k)
            request.guidanceScale = pipeline.defaults.guidance   // 3, from easel-mini/easel.json
            let image = try pipeline.generate(request).images[0]
            XCTAssertEqual(image.width, 64)
            card.add(truth, SceneAnalyser().analyse(image))
        }
        let one = card.oneObject
        XCTAssertEqual(one.images, Self.captions)
        XCTAssertGreaterThanOrEqual(one.colour.correct, Self.requiredColour, "colour: \(one.colour)")
        XCTAssertGreaterThanOrEqual(one.background.correct, Self.requiredBackground, "background: \(one.background)")
    }
}
