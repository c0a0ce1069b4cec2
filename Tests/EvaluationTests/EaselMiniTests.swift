import Diffusion
@testable import Evaluation
import Foundation
import XCTest

/// The committed easel-mini loads in Swift and draws what it is asked: fixed seeds, 20 PNDM steps, the model's
/// own guidance (easel.json; at SD's 7.5 its colours wash out), the first one-object captions of the
/// validation set that name a background, read back by the scene analyser.
final class EaselMiniTests: XCTestCase {
    static let captions = 16
    /// Below what easel-mini draws on these captions (16/16 colours, backgrounds and shapes, 12/12 positions
    /// on the machine that trained it) with room for last-bit differences between CPUs, far above
    /// what a broken pipeline or wrong weights give (chance: 1/8 colours and backgrounds, 1/6 shapes, 1/9
    /// positions). Position is judged on the captions that state one.
    static let requiredColour = 12, requiredBackground = 12, requiredShape = 12
    static let requiredPositionFraction = 0.7

    func testDrawsTheAskedColourShapeAndPlaceOnTheAskedBackground() throws {
        let root = SceneAnalyserTests.root.appendingPathComponent("easel-mini")
        let pipeline = try StableDiffusionPipeline(directory: root)
        XCTAssertEqual(pipeline.defaultSize, 64)
        let set = try EvaluationSet(jsonl: root.appendingPathComponent("eval/val.jsonl"))
        let truths = set.truths.filter { $0.objects.count == 1 && $0.states("background") }.prefix(Self.captions)
        var card = Scorecard()
        for (k, truth) in truths.enumerated() {
            var request = GenerationRequest(prompt: truth.caption)
            request.seed = UInt64(k)
            request.guidanceScale = pipeline.defaults.guidance   // from easel-mini/easel.json
            let image = try pipeline.generate(request).images[0]
            XCTAssertEqual(image.width, 64)
            card.add(truth, SceneAnalyser().analyse(image))
        }
        let one = card.oneObject
        print("easel-mini on \(Self.captions) val captions: colour \(one.colour.correct), background \(one.background.correct), "
              + "shape \(one.shape.correct), position \(one.position.correct)/\(one.position.total)")
        XCTAssertEqual(one.images, Self.captions)
        XCTAssertGreaterThanOrEqual(one.colour.correct, Self.requiredColour, "colour: \(one.colour)")
        XCTAssertGreaterThanOrEqual(one.background.correct, Self.requiredBackground, "background: \(one.background)")
        XCTAssertGreaterThanOrEqual(one.shape.correct, Self.requiredShape, "shape: \(one.shape)")
        XCTAssertGreaterThanOrEqual(one.position.total, 4, "the first \(Self.captions) captions state too few positions")
        XCTAssertGreaterThanOrEqual(one.position.accuracy ?? 0, Self.requiredPositionFraction, "position: \(one.position)")
    }

    /// A round trip through easel-mini's autoencoder keeps a real image: the decoder's mean error on validation
    /// images is under 2 of 255 (MODEL_CARD.md); a wrong layer or weight gives tens.
    static let maxRoundTripError = 6.0

    func testAutoencoderRoundTripKeepsTheRealImage() throws {
        let root = SceneAnalyserTests.root.appendingPathComponent("easel-mini")
        let pipeline = try StableDiffusionPipeline(directory: root)
        let images = try XCTUnwrap(try EvaluationSet(jsonl: root.appendingPathComponent("eval/val.jsonl")).images)
        for image in images.prefix(8) {
            let back = try pipeline.reconstruct(image)
            XCTAssertEqual([back.width, back.height], [image.width, image.height])
            let error = zip(back.pixels, image.pixels).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(image.pixels.count)
            XCTAssertLessThan(error, Self.maxRoundTripError)
        }
        XCTAssertThrowsError(try pipeline.reconstruct(RGBImage(width: 6, height: 8, pixels: [UInt8](repeating: 0, count: 144)))) {
            XCTAssertTrue("\($0)".contains("multiples of 4"), "\($0)")
        }
    }
}
