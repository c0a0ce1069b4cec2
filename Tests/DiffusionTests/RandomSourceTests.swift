import XCTest
@testable import Diffusion

/// Fixture: Fixtures/random/torch_randn.json from tools/make_sd_fixtures.py (torch 2.15.0):
/// `g = torch.Generator().manual_seed(seed)` then `torch.randn(shape, generator=g)` for each draw in turn.
final class RandomSourceTests: XCTestCase {
    struct Draw: Decodable { let shape: [Int]; let values: [Float] }
    struct Case: Decodable { let seed: UInt64; let draws: [Draw] }
    struct File: Decodable { let cases: [Case] }

    func testTorchRandomSourceReproducesTorchRandn() throws {
        let file = try loadJSON(File.self, "random/torch_randn.json")
        XCTAssertGreaterThan(file.cases.count, 3)
        for c in file.cases {
            var source = TorchRandomSource(seed: c.seed)
            for (k, draw) in c.draws.enumerated() {
                let values = source.normal(count: draw.shape.reduce(1, *))
                assertClose(values, draw.values, tol: Tolerance.torchRandom, label: "seed \(c.seed) draw \(k) \(draw.shape)")
            }
        }
    }

    func testMersenneTwisterMatchesTheStandardSequence() {
        // std::mt19937 with the default seed 5489: its 10000th output is 4123659995 (C++11 [rand.predef]).
        var mt = MT19937(seed: 5489)
        var last: UInt32 = 0
        for _ in 0..<10000 { last = mt.next() }
        XCTAssertEqual(last, 4_123_659_995)
    }

    func testEaselSourceIsDeterministicAndRoughlyStandardNormal() {
        var a = EaselRandomSource(seed: 3), b = EaselRandomSource(seed: 3)
        let x = a.normal(count: 20001)
        XCTAssertEqual(x, b.normal(count: 20001))
        let mean = x.reduce(0, +) / Float(x.count)
        let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(x.count)
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(variance, 1, accuracy: 0.05)
    }
}
