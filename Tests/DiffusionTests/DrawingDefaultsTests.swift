@testable import Diffusion
import Foundation
import XCTest

final class DrawingDefaultsTests: XCTestCase {
    func folder(_ json: String?) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("easel-defaults-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        if let json { try Data(json.utf8).write(to: dir.appendingPathComponent(DrawingDefaults.fileName)) }
        return dir
    }

    func testAbsentFileMeansStableDiffusionsGuidance() throws {
        let d = try DrawingDefaults.load(directory: try folder(nil))
        XCTAssertNil(d.guidanceScale)
        XCTAssertEqual(d.guidance, 7.5)
    }

    func testGuidanceIsRead() throws {
        XCTAssertEqual(try DrawingDefaults.load(directory: try folder(#"{"guidance_scale": 3}"#)).guidance, 3)
        XCTAssertEqual(try DrawingDefaults.load(directory: try folder("{}")).guidance, 7.5)
    }

    func testBadFilesAreClearErrors() throws {
        for (json, words) in [("{not json", "easel.json"), (#"{"guidance_scale": "high"}"#, "guidance_scale"),
                              (#"{"guidance_scale": -1}"#, "0...100"), (#"{"guidance_scale": 1e9}"#, "0...100")] {
            XCTAssertThrowsError(try DrawingDefaults.load(directory: try folder(json)), json) {
                XCTAssertTrue("\($0)".contains(words), "\(json): \($0)")
            }
        }
    }

    /// The tiny test pipeline has no easel.json; easel-mini's says 2 (chosen on val captions, easel-mini/MODEL_CARD.md).
    func testPipelinesCarryTheirDefaults() throws {
        let tiny = try StableDiffusionPipeline(directory: fixtureURL("tiny-sd"))
        XCTAssertEqual(tiny.defaults, DrawingDefaults())
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let mini = try StableDiffusionPipeline(directory: root.appendingPathComponent("easel-mini"))
        XCTAssertEqual(mini.defaults.guidance, 2)
    }
}
