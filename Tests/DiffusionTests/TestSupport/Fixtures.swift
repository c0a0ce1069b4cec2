import Foundation
import XCTest

/// Named tolerances of the Diffusion parity tests; each fixture names the tools/ script that made it.
enum Tolerance {
    /// Scheduler steps: float32 elementwise formulas replayed over a 10-step chain; torch evaluates the
    /// scalar coefficients as 0-d float32 tensors, whose rounding can differ from Swift's in the last bit.
    static let schedulerStep: Float = 2e-5
    /// torch.randn: the 16-block Box–Muller in double vs torch's SLEEF float log/sin/cos (≤ 1 ulp).
    static let torchRandom: Float = 2e-6
    /// Whole tiny modules in float32 against PyTorch (the issue's bound for the tiny pipeline).
    static let module: Float = 1e-3
    /// Single kernels vs their reference twins.
    static let kernel: Float = 1e-4
}

func fixtureURL(_ path: String) -> URL {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(path)
}

func loadJSON<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(contentsOf: fixtureURL(path)))
}

/// Fails with the evidence: the first differing values and the max difference (llm.c's check_tensor).
func assertClose(_ actual: [Float], _ expected: [Float], tol: Float, label: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(label): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    var maxDiff: Float = 0, firstBad: [String] = []
    for i in 0..<actual.count {
        let d = abs(actual[i] - expected[i])
        if !(d <= tol), firstBad.count < 5 { firstBad.append("[\(i)] \(actual[i]) vs \(expected[i]) NOT OK") }
        if d > maxDiff || d.isNaN { maxDiff = d }
    }
    if !firstBad.isEmpty {
        XCTFail("\(label): maxdiff \(maxDiff) > tol \(tol); first differing: \(firstBad.joined(separator: "; "))",
                file: file, line: line)
    }
}
