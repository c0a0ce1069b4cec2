import Diffusion
@testable import Evaluation
import Foundation
import XCTest

/// The analyser against the ground truth of real dataset images (easel-mini/eval, made by
/// training/make_eval_set.py): issue 5 asks for ≥ 98% on every attribute.
final class SceneAnalyserTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let requiredAccuracy = 0.98

    func evaluationSet(_ name: String) throws -> EvaluationSet {
        try EvaluationSet(jsonl: Self.root.appendingPathComponent("easel-mini/eval/\(name).jsonl"))
    }

    /// Every attribute, stated in the caption or not: the pixels show them all.
    func checkAnalyser(on name: String) throws {
        let set = try evaluationSet(name)
        let images = try XCTUnwrap(set.images, "\(name).png is missing")
        var card = Scorecard()
        var misses: [String] = []
        let analyser = SceneAnalyser()
        for (truth, image) in zip(set.truths, images) {
            var all = truth
            all.stated = ["colour", "shape", "size", "position", "background", "relation"]
            let seen = analyser.analyse(image)
            card.add(all, seen)
            var single = Scorecard()
            single.add(all, seen)
            if single != Self.perfect(single), misses.count < 8 {
                misses.append("\(truth.caption): truth \(truth.objects.map { "\($0.colour) \($0.size) \($0.shape) \($0.position)" }) "
                              + "seen \(seen.objects.map { "\($0.colour) \($0.size) \($0.shape) \($0.position) r=\($0.radius) fit=\($0.fit)" })")
            }
        }
        for (kind, acc) in [("one object", card.oneObject), ("two objects", card.twoObjects)] {
            for (attribute, tally) in [("colour", acc.colour), ("shape", acc.shape), ("size", acc.size),
                                       ("position", acc.position), ("background", acc.background),
                                       ("relation", acc.relation), ("object count", acc.objectCount)] where tally.total > 0 {
                XCTAssertGreaterThanOrEqual(tally.accuracy!, Self.requiredAccuracy,
                                            "\(name), \(kind), \(attribute): \(tally.correct)/\(tally.total); first misses:\n"
                                            + misses.joined(separator: "\n"))
            }
        }
        print("analyser on \(name): \(String(data: try JSONEncoder().encode(card), encoding: .utf8)!)")
    }

    /// The same card with every tally fully correct.
    static func perfect(_ card: Scorecard) -> Scorecard {
        func full(_ a: AttributeAccuracy) -> AttributeAccuracy {
            var a = a
            for path in [\AttributeAccuracy.colour, \.shape, \.size, \.position, \.background, \.relation, \.objectCount] {
                a[keyPath: path].correct = a[keyPath: path].total
            }
            return a
        }
        var c = card
        c.oneObject = full(c.oneObject)
        c.twoObjects = full(c.twoObjects)
        return c
    }

    func testAnalyserReadsValidationImages() throws { try checkAnalyser(on: "val") }
    func testAnalyserReadsHeldOutImages() throws { try checkAnalyser(on: "heldout") }

    func testCaptionRelationsHoldForTheTruth() throws {
        for truth in try evaluationSet("heldout").truths {
            guard let r = truth.relation else { continue }
            XCTAssertTrue(Scorecard.holds(r.relation, truth.objects[r.subject].position, truth.objects[r.object].position),
                          truth.caption)
        }
    }

    func testPlainImageHasNoObjects() {
        let image = RGBImage(width: 64, height: 64, pixels: [UInt8](repeating: 0, count: 64 * 64 * 3).enumerated().map {
            $0.offset % 3 == 2 ? 230 : 30 })
        let seen = SceneAnalyser().analyse(image)
        XCTAssertEqual(seen.background, "blue")
        XCTAssertEqual(seen.objects, [])
    }

    func testTinyImageIsNotACrash() {
        XCTAssertEqual(SceneAnalyser().analyse(RGBImage(width: 1, height: 1, pixels: [1, 2, 3])).objects, [])
        XCTAssertEqual(SceneAnalyser().analyse(RGBImage(width: 0, height: 0, pixels: [])).objects, [])
    }
}
