import XCTest

/// Fails with the evidence, as llm.c's check_tensor: the first differing values and the max difference.
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

func fixtureURL(_ path: String) -> URL {
    Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(path)
}
