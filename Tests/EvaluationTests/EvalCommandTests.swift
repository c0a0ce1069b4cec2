import Foundation
import XCTest

/// `easel eval images` as a user runs it: the built binary on the default model and its held-out captions.
final class EvalCommandTests: XCTestCase {
    func easel(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let candidates = [
            Bundle(for: Self.self).bundleURL.deletingLastPathComponent().appendingPathComponent("easel").path,
            SceneAnalyserTests.root.appendingPathComponent(".build/release/easel").path,
        ]
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("no easel binary at \(candidates): build the package first (swift build -c release)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.currentDirectoryURL = SceneAnalyserTests.root
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func testReportsAttributesSimilarityAndDistanceAsJSON() throws {
        let r = try easel(["eval", "images", "--count", "4", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertEqual(object["images"] as? Int, 4)
        let attributes = try XCTUnwrap(object["attributes"] as? [String: Any])
        let one = try XCTUnwrap(attributes["one_object"] as? [String: Any]), two = try XCTUnwrap(attributes["two_objects"] as? [String: Any])
        XCTAssertEqual((one["images"] as? Int ?? 0) + (two["images"] as? Int ?? 0), 4)
        let similarity = try XCTUnwrap(object["clip_similarity"] as? Double)
        XCTAssertTrue((-1...1).contains(similarity))
        XCTAssertNotNil(object["clip_similarity_real"] as? Double)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(object["frechet_distance"] as? Double), 0)
        XCTAssertNotNil(object["frechet_distance_reference"] as? Double, "val.jsonl beside the captions is the floor")
    }

    func testBadArgumentsAreClearErrors() throws {
        let encoder = try easel(["eval", "images", "--encoder", "llama", "--count", "1"])
        XCTAssertNotEqual(encoder.status, 0)
        XCTAssertTrue(encoder.stderr.contains("--encoder"), encoder.stderr)
        let count = try easel(["eval", "images", "--count", "0"])
        XCTAssertNotEqual(count.status, 0)
        XCTAssertTrue(count.stderr.contains("--count"), count.stderr)
        let missing = try easel(["eval", "images", "--captions", "/nonexistent/captions.jsonl", "--count", "1"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("/nonexistent/captions.jsonl"), missing.stderr)
    }
}
