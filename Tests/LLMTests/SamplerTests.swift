import XCTest
@testable import LLM

final class SamplerTests: XCTestCase {
    let logits: [Float] = [1.0, 3.0, 2.5, -1.0, 0.5]

    func testTemperatureZeroIsArgmax() {
        var s = LogitSampler(.greedy)
        XCTAssertEqual(s.sample(logits, history: []), 1)
    }

    func testRepetitionPenaltyFollowsLlamaCppRule() {
        var p = GenerateParameters.greedy
        p.repetitionPenalty = 2   // 3.0 → 1.5 loses to 2.5
        var s = LogitSampler(p)
        XCTAssertEqual(s.sample(logits, history: [1]), 2)
    }

    func testSameSeedSameDrawsAndTopKOneIsGreedy() {
        var p = GenerateParameters()
        p.temperature = 1.5
        p.minP = 0
        p.topP = 1
        p.topK = 0
        var a = LogitSampler(p), b = LogitSampler(p)
        let da = (0..<50).map { _ in a.sample(logits, history: []) }
        let db = (0..<50).map { _ in b.sample(logits, history: []) }
        XCTAssertEqual(da, db)
        XCTAssertGreaterThan(Set(da).count, 2, "temperature 1.5 over 5 tokens should draw several")
        p.topK = 1
        var k = LogitSampler(p)
        XCTAssertTrue((0..<20).allSatisfy { _ in k.sample(logits, history: []) == 1 })
    }

    func testTopPAndMinPCutTheTail() {
        var p = GenerateParameters()
        p.temperature = 1
        p.topK = 0
        p.minP = 0
        p.topP = 0.5   // token 1 alone holds ~52% of the mass
        var s = LogitSampler(p)
        XCTAssertTrue((0..<30).allSatisfy { _ in s.sample(logits, history: []) == 1 })
        p.topP = 1
        p.minP = 0.5   // exp(2.5-3)=0.61 stays, exp(1-3)=0.14 goes
        var m = LogitSampler(p)
        let draws = Set((0..<100).map { _ in m.sample(logits, history: []) })
        XCTAssertEqual(draws, [1, 2])
    }

    func testParametersAreValidated() {
        var p = GenerateParameters()
        p.topP = 0
        XCTAssertThrowsError(try p.validate())
        p = GenerateParameters()
        p.temperature = -1
        XCTAssertThrowsError(try p.validate())
    }
}
