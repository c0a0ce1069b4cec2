import XCTest
@testable import Router

/// The classifier's arithmetic on a three-turn corpus, against posteriors worked out by hand.
///
/// Corpus (alpha = 1, every turn a first turn):
///   image "draw cat" → ^ draw, draw, draw cat, cat, <len:2>
///   image "draw"     → ^ draw, draw, <len:1>
///   chat  "cat"      → ^ cat, cat, <len:1>
/// Vocabulary: 7 features. Image counts sum to 8, chat counts to 3, so the denominators are
/// 8 + 7 = 15 and 3 + 7 = 10. Priors 2/3 and 1/3. Context "first turn": (2+1)/(2+3) = 3/5 for image,
/// (1+1)/(1+3) = 1/2 for chat; "after an image": 1/5 and 1/4.
final class NaiveBayesArithmeticTests: XCTestCase {
    static let tolerance = 1e-12

    func tinyRouter(threshold: Double = 0.6) throws -> NaiveBayesRouter {
        try NaiveBayesRouter.train([
            LabelledTurn(route: .image, category: "image-test", previous: nil, text: "draw cat"),
            LabelledTurn(route: .image, category: "image-test", previous: nil, text: "draw"),
            LabelledTurn(route: .chat, category: "chat-test", previous: nil, text: "cat"),
        ], alpha: 1, imageThreshold: threshold)
    }

    func testCountsAndLogProbabilitiesMatchHandComputation() throws {
        let router = try tinyRouter()
        let model = router.model
        XCTAssertEqual(model.features, ["^ draw", "draw", "draw cat", "cat", "<len:2>", "<len:1>", "^ cat"])
        XCTAssertEqual(model.imageCounts, [2, 2, 1, 1, 1, 1, 0])
        XCTAssertEqual(model.chatCounts, [0, 0, 0, 1, 0, 1, 1])
        XCTAssertEqual(model.imageContexts, [2, 0, 0])
        XCTAssertEqual(model.chatContexts, [1, 0, 0])
        let expectedImage = [3.0, 3, 2, 2, 2, 2, 1].map { log($0 / 15) }
        let expectedChat = [1.0, 1, 1, 2, 1, 2, 2].map { log($0 / 10) }
        for i in expectedImage.indices {
            XCTAssertEqual(router.logLikelihoods.image[i], expectedImage[i], accuracy: Self.tolerance, model.features[i])
            XCTAssertEqual(router.logLikelihoods.chat[i], expectedChat[i], accuracy: Self.tolerance, model.features[i])
        }
        XCTAssertEqual(router.logPriors.image, log(2.0 / 3), accuracy: Self.tolerance)
        XCTAssertEqual(router.logPriors.chat, log(1.0 / 3), accuracy: Self.tolerance)
        XCTAssertEqual(router.logContexts.image, [log(3.0 / 5), log(1.0 / 5), log(1.0 / 5)])
        XCTAssertEqual(router.logContexts.chat, [log(2.0 / 4), log(1.0 / 4), log(1.0 / 4)])
    }

    /// "cat", first turn: image 2/3 · 3/5 · (1/15 · 2/15 · 2/15) = 24/50625;
    /// chat 1/3 · 1/2 · (2/10 · 2/10 · 2/10) = 1/750. P(image) = 24 / (24 + 67.5) = 16/61.
    func testPosteriorOfAFirstTurn() throws {
        let decision = try tinyRouter().decide("cat")
        XCTAssertEqual(decision.imageProbability, 16.0 / 61, accuracy: Self.tolerance)
        XCTAssertEqual(decision.logOdds, log(24.0 / 50625) - log(1.0 / 750), accuracy: Self.tolerance)
        XCTAssertEqual(decision.route, .chat)
        XCTAssertEqual(decision.probability, 45.0 / 61, accuracy: Self.tolerance)
    }

    /// "draw a cat" after an image: "a", "draw a", "a cat", <len:3-4> and the <image> conjunctions are
    /// unknown and left out. Image 2/3 · 1/5 · (3/15 · 3/15 · 2/15) = 36/50625; chat
    /// 1/3 · 1/4 · (1/10 · 1/10 · 2/10) = 1/6000. P(image) = 36 / (36 + 8.4375) = 64/79.
    func testPosteriorAfterAnImageAndItsExplanation() throws {
        let decision = try tinyRouter().decide("draw a cat", previous: .image)
        XCTAssertEqual(decision.imageProbability, 64.0 / 79, accuracy: Self.tolerance)
        XCTAssertEqual(decision.route, .image)
        XCTAssertEqual(decision.context.feature, "<previous: image>")
        XCTAssertEqual(decision.context.weight, log(4.0 / 5), accuracy: Self.tolerance)
        XCTAssertEqual(decision.priorLogOdds, log(2.0), accuracy: Self.tolerance)
        XCTAssertEqual(decision.towardImage.map(\.feature), ["^ draw", "draw"])
        for f in decision.towardImage { XCTAssertEqual(f.weight, log(2.0), accuracy: Self.tolerance) }
        XCTAssertEqual(decision.towardChat.map(\.feature), ["cat"])
        XCTAssertEqual(decision.towardChat[0].weight, log(2.0 / 3), accuracy: Self.tolerance)
        let sum = decision.priorLogOdds + decision.context.weight
            + (decision.towardImage + decision.towardChat).map(\.weight).reduce(0, +)
        XCTAssertEqual(sum, decision.logOdds, accuracy: Self.tolerance, "the explanation accounts for every term")
    }

    func testThresholdDecidesTheRoute() throws {
        XCTAssertEqual(try tinyRouter(threshold: 0.8).decide("draw a cat", previous: .image).route, .image)
        XCTAssertEqual(try tinyRouter(threshold: 0.85).decide("draw a cat", previous: .image).route, .chat)
        XCTAssertThrowsError(try tinyRouter(threshold: 1))
        XCTAssertThrowsError(try tinyRouter(threshold: 0))
    }

    func testTrainingRejectsBadAlphaAndOneClassCorpora() {
        let turn = LabelledTurn(route: .image, category: "image-test", previous: nil, text: "draw")
        XCTAssertThrowsError(try NaiveBayesRouter.train([turn, turn], alpha: 0)) { error in
            XCTAssertEqual(error as? RouterError, .invalidSetting(name: "alpha", reason: "must be a positive number, found 0.0"))
        }
        XCTAssertThrowsError(try NaiveBayesRouter.train([turn])) { error in
            guard case .malformedModel(_, let reason)? = error as? RouterError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("each route"), reason)
        }
    }

    func testSigmoidIsStableAtTheExtremes() {
        XCTAssertEqual(NaiveBayesRouter.sigmoid(0), 0.5)
        XCTAssertEqual(NaiveBayesRouter.sigmoid(1000), 1)
        XCTAssertEqual(NaiveBayesRouter.sigmoid(-1000), 0)
        XCTAssertFalse(NaiveBayesRouter.sigmoid(-800).isNaN)
    }
}
