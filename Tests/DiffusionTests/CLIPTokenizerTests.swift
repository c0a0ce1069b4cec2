import XCTest
@testable import Diffusion

/// Fixture: Fixtures/clip/{vocab.json, merges.txt} derived from open_clip's bpe_simple_vocab_16e6.txt.gz by
/// tools/make_sd_clip_vocab.py (OpenAI CLIP's 49408-token vocabulary, as in SD v1's tokenizer/), and
/// Fixtures/clip/tokenizer_cases.json: ids from transformers 5.24.0's CLIPTokenizer for each tricky string,
/// plain (`add_special_tokens=False`) and as the SD pipeline calls it (`padding="max_length"`, 77, truncation).
final class CLIPTokenizerTests: XCTestCase {
    struct Case: Decodable { let text: String; let ids: [Int]; let padded: [Int] }
    struct Cases: Decodable { let cases: [Case] }

    func testTrickyStringsMatchTransformersCLIPTokenizer() throws {
        let tokenizer = try CLIPTokenizer(directory: fixtureURL("clip"))
        let cases = try loadJSON(Cases.self, "clip/tokenizer_cases.json").cases
        XCTAssertGreaterThanOrEqual(cases.count, 40)
        for c in cases {
            XCTAssertEqual(tokenizer.encode(c.text), c.ids, "ids of \(c.text.debugDescription)")
            XCTAssertEqual(tokenizer.encodePadded(c.text), c.padded, "padded ids of \(c.text.debugDescription)")
        }
    }

    func testAstronautPromptMatchesPublishedIds() throws {
        // apple/ml-stable-diffusion's testBPETokenizer pins these ids for SD v1's tokenizer.
        let tokenizer = try CLIPTokenizer(directory: fixtureURL("clip"))
        let ids = tokenizer.encodePadded("a photo of an astronaut riding a horse on mars")
        XCTAssertEqual(Array(ids.prefix(12)), [49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 525, 7496, 49407])
        XCTAssertEqual(ids.count, 77)
        XCTAssertEqual(ids.last, 49407)
    }

    func testBadTokenizerFilesAreClearErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bad-clip-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try CLIPTokenizer(directory: dir)) { XCTAssertTrue("\($0)".contains("vocab.json"), "\($0)") }
        try Data("[1, 2]".utf8).write(to: dir.appendingPathComponent("vocab.json"))
        XCTAssertThrowsError(try CLIPTokenizer(directory: dir)) { XCTAssertTrue("\($0)".contains("vocab.json"), "\($0)") }
        try Data("{\"a</w>\": 0}".utf8).write(to: dir.appendingPathComponent("vocab.json"))
        try Data("#version: 0.2\na b c\n".utf8).write(to: dir.appendingPathComponent("merges.txt"))
        XCTAssertThrowsError(try CLIPTokenizer(directory: dir)) { XCTAssertTrue("\($0)".contains("line 2"), "\($0)") }
        try Data("#version: 0.2\n".utf8).write(to: dir.appendingPathComponent("merges.txt"))
        XCTAssertThrowsError(try CLIPTokenizer(directory: dir)) { XCTAssertTrue("\($0)".contains("<|startoftext|>"), "\($0)") }
    }
}

extension CLIPTokenizerTests {
    /// Fixtures/clip-tokenizer-json is tiny-sd's tokenizer saved by transformers 5 (tokenizer.json only).
    func testTokenizerJSONGivesTheSameIdsAsVocabAndMerges() throws {
        let fromFiles = try CLIPTokenizer(directory: fixtureURL("tiny-sd/tokenizer"))
        let fromJSON = try CLIPTokenizer(directory: fixtureURL("clip-tokenizer-json"))
        for text in ["a tiny red fox, watercolor", "Don't PANIC!! 42 ünïcödé", "<|endoftext|> x"] {
            XCTAssertEqual(fromJSON.encodePadded(text), fromFiles.encodePadded(text), text)
        }
        XCTAssertEqual(fromJSON.padToken, fromFiles.padToken)
        XCTAssertEqual(fromJSON.maxLength, 77)
    }
}
