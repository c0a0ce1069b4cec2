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

    func testSaveWritesEachDrawingAndWhatWasReadFromIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("easel-save-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try easel(["eval", "images", "--count", "2", "--clip", "none", "--save", dir.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        for name in ["00000.png", "00001.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), name)
        }
        let lines = try String(contentsOf: dir.appendingPathComponent("analysis.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let captions = try String(contentsOf: SceneAnalyserTests.root.appendingPathComponent("easel-mini/eval/heldout.jsonl"),
                                  encoding: .utf8).split(separator: "\n").prefix(2).map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["caption"] as? String
        }
        for (k, line) in lines.enumerated() {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(object["index"] as? Int, k)
            XCTAssertEqual(object["caption"] as? String, captions[k])
            let seen = try XCTUnwrap(object["seen"] as? [String: Any])
            XCTAssertNotNil(seen["background"] as? String)
            XCTAssertNotNil(seen["objects"] as? [[String: Any]])
        }
    }

    /// The autoencoder's ceiling: real images through easel-mini's VAE keep their colours (99.5-100% of the
    /// 300 held-out ones; a broken round trip gives chance, 1/8).
    static let requiredReconstructedColour = 0.9

    func testReconstructScoresTheRealImagesThroughTheAutoencoder() throws {
        let r = try easel(["eval", "images", "--reconstruct", "--count", "12", "--clip", "none", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertEqual(object["images"] as? Int, 12)
        let attributes = try XCTUnwrap(object["attributes"] as? [String: Any])
        for kind in ["one_object", "two_objects"] {
            let colour = try XCTUnwrap((attributes[kind] as? [String: Any])?["colour"] as? [String: Any], kind)
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(colour["accuracy"] as? Double), Self.requiredReconstructedColour,
                                        "\(kind) colour: \(colour)")
        }
        let table = try easel(["eval", "images", "--reconstruct", "--count", "2", "--clip", "none"])
        XCTAssertTrue(table.stdout.hasPrefix("2 real images through the model's autoencoder"), table.stdout)
    }

    func testReconstructWithoutRealImagesIsAClearError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("easel-nosheet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try String(contentsOf: SceneAnalyserTests.root.appendingPathComponent("easel-mini/eval/heldout.jsonl"),
                               encoding: .utf8).split(separator: "\n")[0]
        let captions = dir.appendingPathComponent("captions.jsonl")
        try Data((first + "\n").utf8).write(to: captions)
        let r = try easel(["eval", "images", "--reconstruct", "--captions", captions.path, "--clip", "none"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--reconstruct") && r.stderr.contains("captions.jsonl"), r.stderr)
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
