@testable import Evaluation
import Foundation
import XCTest

/// Against scipy.linalg.sqrtm-based references (tools/make_frechet_fixture.py).
final class FrechetDistanceTests: XCTestCase {
    /// Relative to the reference distance (absolute for a zero reference): the features are Float32, the
    /// arithmetic Double on both sides, so only summation order differs.
    static let tolerance = 1e-5

    struct Case: Decodable { let name: String; let a: [[Float]]; let b: [[Float]]; let distance: Double }
    struct Fixture: Decodable { let cases: [Case] }

    func testMatchesScipy() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "frechet", withExtension: "json", subdirectory: "Fixtures"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertEqual(fixture.cases.count, 3)
        for c in fixture.cases {
            let got = try FrechetDistance.distance(c.a, c.b)
            let error = abs(got - c.distance) / max(abs(c.distance), 1)
            XCTAssertLessThanOrEqual(error, Self.tolerance, "\(c.name): Easel \(got), scipy \(c.distance), difference \(abs(got - c.distance))")
        }
    }

    func testEigenvaluesOfAKnownMatrix() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let values = FrechetDistance.symmetricEigenvalues([2, 1, 1, 2], 2).sorted()
        XCTAssertEqual(values[0], 1, accuracy: 1e-12)
        XCTAssertEqual(values[1], 3, accuracy: 1e-12)
    }

    func testBadInputIsAnError() {
        XCTAssertThrowsError(try FrechetDistance.distance([[1, 2]], [[1, 2], [3, 4]])) { XCTAssertTrue("\($0)".contains("at least 2")) }
        XCTAssertThrowsError(try FrechetDistance.distance([[1, 2], [3]], [[1, 2], [3, 4]])) { XCTAssertTrue("\($0)".contains("same")) }
        XCTAssertThrowsError(try FrechetDistance.distance([[], []], [[], []]))
    }
}
