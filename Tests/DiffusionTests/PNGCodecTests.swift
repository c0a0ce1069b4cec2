import XCTest
@testable import Diffusion

final class PNGCodecTests: XCTestCase {
    func tempURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("easel-png-\(UUID())-\(name)")
    }

    func testRoundTripKeepsPixelsAndParameters() throws {
        let pixels = (0..<(5 * 3 * 3)).map { UInt8(($0 * 37) % 256) }
        let image = RGBImage(width: 5, height: 3, pixels: pixels)
        var meta = ImageMetadata(prompt: "a red fox, watercolor", negativePrompt: "blurry", steps: 20, sampler: .eulerAncestral,
                                 guidanceScale: 7.5, seed: 42, width: 5, height: 3, model: "easel-mini",
                                 textEncoder: "CLIP", random: .torch)
        meta.batchSize = 2
        let url = tempURL("a.png")
        defer { try? FileManager.default.removeItem(at: url) }
        try image.writePNG(to: url, text: meta.textChunks)
        XCTAssertEqual(try PNGCodec.decode(contentsOf: url), image)
        let text = PNGCodec.textChunks(try Data(contentsOf: url))
        XCTAssertEqual(text["parameters"], """
            a red fox, watercolor
            Negative prompt: blurry
            Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 5x3, Model: easel-mini, Batch size: 2, Batch pos: 0, Text encoder: CLIP, RNG: torch, Generator: Easel
            """)
    }

    func testNonLatinPromptsGoInUTF8Chunks() throws {
        let image = RGBImage(width: 1, height: 1, pixels: [1, 2, 3])
        let data = try PNGCodec.encode(image, text: [("parameters", "日本の狐 🦊")])
        XCTAssertEqual(PNGCodec.textChunks(data)["parameters"], "日本の狐 🦊")
        XCTAssertNotNil(data.range(of: Data("iTXt".utf8)))
    }

    func testExistingFileIsNeverOverwritten() throws {
        let url = tempURL("b.png")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("precious".utf8).write(to: url)
        XCTAssertThrowsError(try RGBImage(width: 1, height: 1, pixels: [0, 0, 0]).writePNG(to: url)) {
            XCTAssertTrue("\($0)".contains("already exists"), "\($0)")
        }
        XCTAssertEqual(try Data(contentsOf: url), Data("precious".utf8))
    }

    func testBadPNGIsAClearError() throws {
        let url = tempURL("c.png")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("\u{89}PNG\r\n\u{1a}\nnot really".utf8).write(to: url)
        XCTAssertThrowsError(try PNGCodec.decode(contentsOf: url)) { XCTAssertTrue("\($0)".contains(url.path), "\($0)") }
        XCTAssertThrowsError(try PNGCodec.decode(contentsOf: tempURL("missing.png")))
    }

    func testCRCMatchesTheStandardCheckValue() {
        XCTAssertEqual(PNGCodec.crc32(Data("123456789".utf8)), 0xCBF4_3926)
    }
}
