import Foundation
import XCTest
@testable import LLM

/// tokenizer.json → GGUFVocabulary. The tiny vocabularies exist both as GGUF and as HF tokenizer.json
/// (tools/make_tiny_vocabs.py), so a tokenizer built from the JSON must give llama.cpp's ids for the GGUF.
final class TokenizerJSONTests: XCTestCase {
    private func data(_ file: String) throws -> Data {
        try Data(contentsOf: TokenizerFixture.directory.appendingPathComponent(file))
    }

    private func vocabulary(_ name: String) throws -> GGUFVocabulary {
        try GGUFVocabulary(tokenizerJSON: try data("\(name).tokenizer.json"), tokenizerConfig: try data("\(name).tokenizer_config.json"))
    }

    private func assertMatchesLlamaCpp(_ name: String) throws {
        let tokenizer = try makeTokenizer(try vocabulary(name))
        let prompts = try TokenizerFixture.prompts()
        for plain in [false, true] {
            let expected = try TokenizerFixture.ids(name, plain: plain)
            for (i, p) in prompts.enumerated() {
                assertSameIDs(tokenizer.encode(p, addSpecial: !plain, parseSpecial: !plain), expected[i],
                              "\(name) tokenizer.json\(plain ? " plain" : "") string \(i) \(p.debugDescription)")
            }
        }
        let fuzz = try TokenizerFixture.fuzzIDs(name)
        for (i, p) in try TokenizerFixture.prompts("fuzz.inp").enumerated() {
            assertSameIDs(tokenizer.encode(p, addSpecial: true, parseSpecial: true), fuzz[i].special, "\(name) tokenizer.json fuzz \(i)")
            assertSameIDs(tokenizer.encode(p, addSpecial: false, parseSpecial: false), fuzz[i].plain, "\(name) tokenizer.json fuzz plain \(i)")
        }
    }

    func testByteLevelTokenizerJSONMatchesLlamaCpp() throws { try assertMatchesLlamaCpp("llama-bpe-tiny") }
    func testSentencePieceTokenizerJSONMatchesLlamaCpp() throws { try assertMatchesLlamaCpp("spm-tiny") }

    func testTokenizerJSONGivesTheGGUFVocabulary() throws {
        for name in ["llama-bpe-tiny", "spm-tiny"] {
            let json = try vocabulary(name)
            let gguf = try TokenizerFixture.vocabulary(name)
            XCTAssertEqual(json.model, gguf.model, name)
            XCTAssertEqual(json.preTokenizer, gguf.preTokenizer, name)
            XCTAssertEqual(json.tokens, gguf.tokens, name)
            XCTAssertEqual(json.tokenTypes, gguf.tokenTypes, name)
            XCTAssertEqual(json.bosID, gguf.bosID, name)
            XCTAssertEqual(json.eosID, gguf.eosID, name)
            XCTAssertEqual(json.addBOS, gguf.addBOS, name)
            if name == "llama-bpe-tiny" { XCTAssertEqual(json.merges, gguf.merges) }
        }
        XCTAssertEqual(try vocabulary("llama-bpe-tiny").chatTemplate.flatMap(ChatTemplate.init(jinja:)), .llama3)
        XCTAssertEqual(try vocabulary("spm-tiny").chatTemplate.flatMap(ChatTemplate.init(jinja:)), .llama2)
        XCTAssertEqual(try vocabulary("spm-tiny").addSpacePrefix, true)
    }

    func testFolderWithoutConfigUsesThePostProcessorBOS() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("easel-tokjson-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try data("spm-tiny.tokenizer.json").write(to: folder.appendingPathComponent("tokenizer.json"))
        let v = try GGUFVocabulary(huggingFaceFolder: folder)
        XCTAssertEqual(v.bosID, 1)
        XCTAssertEqual(v.addBOS, true)
        XCTAssertEqual(v.unknownID, 0)
        XCTAssertNil(v.chatTemplate)
        XCTAssertThrowsError(try GGUFVocabulary(huggingFaceFolder: folder.appendingPathComponent("missing"))) { error in
            XCTAssertTrue("\(error)".contains("tokenizer.json"), "\(error)")
        }
    }

    func testMergesInBothSpellingsGiveTheSameVocabulary() throws {
        let pairs = #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]}, "pre_tokenizer": {"type": "ByteLevel", "use_regex": true}}"#
        let strings = #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}, "pre_tokenizer": {"type": "ByteLevel", "use_regex": true}}"#
        let a = try GGUFVocabulary(tokenizerJSON: Data(pairs.utf8)), b = try GGUFVocabulary(tokenizerJSON: Data(strings.utf8))
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.merges, ["a b"])
        XCTAssertEqual(a.preTokenizer, "gpt-2")
    }

    func testPreTokenizerLayoutsAreRecognised() throws {
        func pre(_ json: String) throws -> String {
            try HFJSON.preTokenizerName(try JSONSerialization.jsonObject(with: Data(json.utf8)))
        }
        XCTAssertEqual(try pre(#"{"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true}, {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}]}"#), "smollm")
        XCTAssertEqual(try pre(#"{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}"#), "gpt-2")
        XCTAssertThrowsError(try pre(#"{"type": "Whitespace"}"#)) { error in
            XCTAssertEqual(error as? TokenizerError, .unsupportedPreTokenizer("tokenizer.json pre_tokenizer Whitespace"))
        }
    }

    func testBadTokenizerJSONIsRefusedWithTheReason() {
        func refuse(_ json: String, _ word: String, line: UInt = #line) {
            XCTAssertThrowsError(try GGUFVocabulary(tokenizerJSON: Data(json.utf8)), line: line) { error in
                XCTAssertTrue(error is TokenizerError, "\(error)", line: line)
                XCTAssertTrue("\(error)".contains(word), "\(error) should mention \(word)", line: line)
            }
        }
        refuse("not json", "not valid JSON")
        refuse("[1, 2]", "expected a JSON object")
        refuse(#"{"nomodel": 1}"#, "model")
        refuse(#"{"model": {"type": "Unigram", "vocab": []}}"#, "Unigram")
        refuse(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 2}, "merges": []}}"#, "id 1 has no token")
        refuse(#"{"model": {"type": "BPE", "vocab": {"a": true}, "merges": []}}"#, "not a non-negative integer")
        refuse(#"{"model": {"type": "BPE", "vocab": {"a": 1.5}, "merges": []}}"#, "not a non-negative integer")
        refuse(#"{"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}}"#, "not a non-negative integer")
        refuse(#"{"model": {"type": "BPE", "vocab": {}, "merges": []}}"#, "no tokens")
        refuse(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [7]}}"#, "merge 0")
        refuse(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "added_tokens": [{"id": "x"}]}"#, "added_tokens[0]")
        refuse(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#, "without a pre_tokenizer")
        refuse(#"{"model": {"type": "BPE", "byte_fallback": true, "vocab": {"a": 0}, "merges": []}}"#, "Metaspace")
    }
}
