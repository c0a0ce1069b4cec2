import Foundation
import XCTest
import WeightIO
@testable import LLM

/// Parity with llama.cpp: every fixture here was written by tools/make_tokenizer_fixtures.py from
/// llama-cpp-python 0.3.36 (llama.cpp 0c1e5709) tokenizing Fixtures/tokenizer/tokenizer.inp. The small
/// vocabularies come from tools/make_tiny_vocabs.py; SmolLM2 is the default model that scripts/setup.sh fetches.
final class TokenizerGoldenTests: XCTestCase {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let smolLM2Path = repoRoot.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path

    // MARK: ids

    func testSmolLM2MatchesLlamaCpp() throws { try assertMatchesLlamaCpp("smollm2", vocabulary: try smolLM2Vocabulary()) }
    func testSentencePieceMatchesLlamaCpp() throws { try assertMatchesLlamaCpp("spm-tiny") }
    func testLlama3SplitMatchesLlamaCpp() throws { try assertMatchesLlamaCpp("llama-bpe-tiny") }
    func testGPT2SplitMatchesLlamaCpp() throws { try assertMatchesLlamaCpp("gpt2-tiny") }
    func testDefaultSplitMatchesLlamaCpp() throws { try assertMatchesLlamaCpp("default-tiny") }

    /// 300 seeded random strings per vocabulary (tools/make_tokenizer_fixtures.py FUZZ_PIECES).
    func testRandomStringsMatchLlamaCpp() throws {
        let prompts = try TokenizerFixture.prompts("fuzz.inp")
        XCTAssertEqual(prompts.count, 300)
        var vocabularies: [(String, GGUFVocabulary)] = try ["spm-tiny", "llama-bpe-tiny", "gpt2-tiny", "default-tiny"].map { ($0, try TokenizerFixture.vocabulary($0)) }
        if FileManager.default.fileExists(atPath: Self.smolLM2Path) { vocabularies.append(("smollm2", try smolLM2Vocabulary())) }
        for (name, vocabulary) in vocabularies {
            let tokenizer = try makeTokenizer(vocabulary)
            let expected = try TokenizerFixture.fuzzIDs(name)
            XCTAssertEqual(expected.count, prompts.count, name)
            var failures = 0
            for (i, p) in prompts.enumerated() {
                let special = tokenizer.encode(p, addSpecial: true, parseSpecial: true)
                let plain = tokenizer.encode(p, addSpecial: false, parseSpecial: false)
                if special != expected[i].special || plain != expected[i].plain {
                    failures += 1
                    if failures <= 3 {
                        assertSameIDs(special, expected[i].special, "\(name) fuzz \(i) \(p.debugDescription)")
                        assertSameIDs(plain, expected[i].plain, "\(name) fuzz plain \(i) \(p.debugDescription)")
                    }
                }
            }
            XCTAssertEqual(failures, 0, "\(name): \(failures) of \(prompts.count) random strings differ from llama.cpp")
        }
    }

    // MARK: vocabulary facts and pieces

    func testSmolLM2SpecialIdsMatchLlamaCpp() throws {
        let tokenizer = try makeTokenizer(try smolLM2Vocabulary())
        let facts = try TokenizerFixture.facts("smollm2")
        XCTAssertEqual(tokenizer.vocabularySize, facts.vocabulary_size)
        XCTAssertEqual(tokenizer.bosID, facts.bos)
        XCTAssertEqual(tokenizer.eosID, facts.eos)
        XCTAssertEqual((0..<tokenizer.vocabularySize).filter(tokenizer.isEndOfGeneration), facts.end_of_generation)
        XCTAssertEqual(tokenizer.endOfGenerationIDs, Set(facts.end_of_generation))
        // llama.cpp takes the first end-of-turn name its hash map visits (here <|endoftext|>, 0); we take
        // the first in its list order, <|im_end|>, the token SmolLM2's chat template ends turns with.
        XCTAssertEqual(facts.eot, 0)
        XCTAssertEqual(tokenizer.eotID, 2)
        XCTAssertEqual(tokenizer.piece(2), "<|im_end|>")
    }

    func testTinyVocabularyFactsMatchLlamaCpp() throws {
        for name in ["spm-tiny", "llama-bpe-tiny", "gpt2-tiny", "default-tiny"] {
            let tokenizer = try makeTokenizer(try TokenizerFixture.vocabulary(name))
            let facts = try TokenizerFixture.facts(name)
            XCTAssertEqual(tokenizer.vocabularySize, facts.vocabulary_size, name)
            XCTAssertEqual(tokenizer.bosID, facts.bos, name)
            XCTAssertEqual(tokenizer.eosID, facts.eos, name)
            XCTAssertEqual(tokenizer.eotID, facts.eot, name)
            XCTAssertEqual((0..<tokenizer.vocabularySize).filter(tokenizer.isEndOfGeneration), facts.end_of_generation, name)
        }
    }

    func testPiecesMatchLlamaCpp() throws {
        for name in ["smollm2", "spm-tiny", "llama-bpe-tiny", "gpt2-tiny", "default-tiny"] {
            let vocabulary = name == "smollm2" ? try smolLM2Vocabulary() : try TokenizerFixture.vocabulary(name)
            let tokenizer = try makeTokenizer(vocabulary)
            let facts = try TokenizerFixture.facts(name)
            var failures = 0
            for (k, id) in facts.piece_ids.enumerated() {
                for (render, expected) in [(true, facts.pieces_special[k]), (false, facts.pieces_plain[k])] {
                    let got = hex(tokenizer.pieceBytes(id, renderSpecial: render))
                    if got != expected {
                        failures += 1
                        if failures <= 5 { XCTFail("\(name): piece of \(id) (special \(render)) is \(got), llama.cpp gives \(expected)") }
                    }
                }
            }
            XCTAssertEqual(failures, 0, "\(name): \(failures) pieces differ")
        }
    }

    func testDecodeMatchesLlamaCpp() throws {
        for name in ["smollm2", "spm-tiny", "llama-bpe-tiny", "gpt2-tiny", "default-tiny"] {
            let vocabulary = name == "smollm2" ? try smolLM2Vocabulary() : try TokenizerFixture.vocabulary(name)
            let tokenizer = try makeTokenizer(vocabulary)
            let facts = try TokenizerFixture.facts(name)
            let out = try TokenizerFixture.ids(name, plain: false)
            let plain = try TokenizerFixture.ids(name, plain: true)
            for i in out.indices {
                XCTAssertEqual(tokenizer.decode(out[i]), facts.decoded[i], "\(name) string \(i)")
                XCTAssertEqual(tokenizer.decode(out[i], removeSpecial: true, renderSpecial: true), facts.decoded_special[i], "\(name) string \(i)")
                XCTAssertEqual(tokenizer.decode(plain[i]), facts.decoded_plain[i], "\(name) string \(i)")
            }
        }
    }

    // MARK: helpers

    private func smolLM2Vocabulary() throws -> GGUFVocabulary {
        guard FileManager.default.fileExists(atPath: Self.smolLM2Path) else {
            throw XCTSkip("default model missing at \(Self.smolLM2Path): run scripts/setup.sh to fetch it")
        }
        return try GGUFVocabulary(gguf: GGUFFile(path: Self.smolLM2Path))
    }

    private func assertMatchesLlamaCpp(_ name: String, vocabulary: GGUFVocabulary? = nil) throws {
        let tokenizer = try makeTokenizer(try vocabulary ?? TokenizerFixture.vocabulary(name))
        let prompts = try TokenizerFixture.prompts()
        XCTAssertGreaterThanOrEqual(prompts.count, 60)
        for plain in [false, true] {
            let expected = try TokenizerFixture.ids(name, plain: plain)
            XCTAssertEqual(expected.count, prompts.count, "\(name): fixture and prompt counts differ")
            for (i, prompt) in prompts.enumerated() {
                let got = tokenizer.encode(prompt, addSpecial: !plain, parseSpecial: !plain)
                assertSameIDs(got, expected[i], "\(name)\(plain ? " plain" : "") string \(i) \(prompt.debugDescription)")
            }
        }
    }
}

/// Fails with the first differing position and both id lists.
func assertSameIDs(_ got: [Int], _ expected: [Int], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
    guard got != expected else { return }
    let first = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, expected.count)
    XCTFail("\(label): ids differ first at position \(first)\n  got      \(got)\n  llama.cpp \(expected)", file: file, line: line)
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

enum TokenizerFixture {
    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("tokenizer")

    struct Facts: Decodable {
        var vocabulary_size: Int
        var bos: Int?
        var eos: Int?
        var eot: Int?
        var add_bos: Bool
        var end_of_generation: [Int]
        var decoded: [String]
        var decoded_special: [String]
        var decoded_plain: [String]
        var piece_ids: [Int]
        var pieces_special: [String]
        var pieces_plain: [String]
    }

    /// The strings of `file`, split on the separator line by bytes: a string ending in "\r" would glue to the
    /// separator's "\n" as one Swift Character and hide it from a Character-based split.
    static func prompts(_ file: String = "tokenizer.inp") throws -> [String] {
        let bytes = Array(try Data(contentsOf: directory.appendingPathComponent(file)))
        let separator = Array("\n__easel_vocab_test__\n".utf8)
        var out: [String] = []
        var start = 0
        while let r = bytes.firstRange(of: separator, in: start..<bytes.count) {
            out.append(String(decoding: bytes[start..<r.lowerBound], as: UTF8.self))
            start = r.upperBound
        }
        out.append(String(decoding: bytes[start...], as: UTF8.self))
        return out
    }

    /// `NAME.fuzz.out`: per string, the special ids and the plain ids, separated by " | ".
    static func fuzzIDs(_ name: String) throws -> [(special: [Int], plain: [Int])] {
        let text = try String(contentsOf: directory.appendingPathComponent("\(name).fuzz.out"), encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: true).map { line in
            let halves = line.components(separatedBy: "|")
            func ids(_ s: String) -> [Int] { s.split(separator: " ").map { Int($0)! } }
            return (ids(halves[0]), ids(halves[1]))
        }
    }

    static func ids(_ name: String, plain: Bool) throws -> [[Int]] {
        let text = try String(contentsOf: directory.appendingPathComponent(plain ? "\(name).plain.out" : "\(name).out"), encoding: .utf8)
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines.map { $0.split(separator: " ").map { Int($0)! } }
    }

    static func facts(_ name: String) throws -> Facts {
        try JSONDecoder().decode(Facts.self, from: Data(contentsOf: directory.appendingPathComponent("\(name).json")))
    }

    static func vocabulary(_ name: String) throws -> GGUFVocabulary {
        try GGUFVocabulary(gguf: GGUFFile(path: directory.appendingPathComponent("\(name).gguf").path))
    }
}
