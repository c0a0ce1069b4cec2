import Foundation
import XCTest
import WeightIO
@testable import LLM

/// Behaviour beyond the llama.cpp goldens: streaming decode, bad vocabularies, out-of-range ids.
final class TokenizerTests: XCTestCase {
    // MARK: streaming decode

    /// Feeds ids one at a time; the pieces must join to the whole text and no piece may hold U+FFFD.
    private func assertStreams(_ text: String, _ tokenizer: any Tokenizer, expectHeldBytes: Bool,
                               file: StaticString = #filePath, line: UInt = #line) {
        let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        var decoder = TokenDecoder(tokenizer: tokenizer)
        var chunks: [String] = []
        var held = false
        for id in ids {
            chunks.append(decoder.append(id))
            held = held || decoder.hasPendingBytes
        }
        chunks.append(decoder.finish())
        let whole = String(decoding: ids.flatMap { tokenizer.pieceBytes($0, renderSpecial: false) }, as: UTF8.self)
        XCTAssertEqual(chunks.joined(), whole, file: file, line: line)
        XCTAssertFalse(chunks.contains { $0.contains("\u{FFFD}") }, "a chunk broke a character: \(chunks)", file: file, line: line)
        XCTAssertEqual(held, expectHeldBytes, "ids \(ids)", file: file, line: line)
    }

    func testStreamingJoinsByteFallbackTokensIntoCharacters() throws {
        let spm = try makeTokenizer(try TokenizerFixture.vocabulary("spm-tiny"))
        // The tiny SentencePiece vocabulary has no llama piece: 🦙 is four <0xXX> byte tokens.
        XCTAssertEqual(spm.encode("🦙", addSpecial: false, parseSpecial: false).count, 5)  // "▁" + 4 bytes
        assertStreams(" this is 🦙.cpp, 日本語 and ✨", spm, expectHeldBytes: true)
    }

    func testStreamingJoinsByteLevelTokensIntoCharacters() throws {
        let bpe = try makeTokenizer(try TokenizerFixture.vocabulary("llama-bpe-tiny"))
        assertStreams("emoji 🦙🦙🦙 and flags 🇫🇷🇯🇵 and skin 👍🏽 — 한국어", bpe, expectHeldBytes: true)
        assertStreams("plain ASCII only", bpe, expectHeldBytes: false)
    }

    func testDecoderHoldsOnlyValidPrefixes() {
        XCTAssertEqual(TokenDecoder.unfinishedSuffixLength([]), 0)
        XCTAssertEqual(TokenDecoder.unfinishedSuffixLength([0x41]), 0)
        XCTAssertEqual(TokenDecoder.unfinishedSuffixLength([0x41, 0xF0, 0x9F]), 2)
        XCTAssertEqual(TokenDecoder.unfinishedSuffixLength([0xF0, 0x9F, 0xA6]), 3)
        XCTAssertEqual(TokenDecoder.unfinishedSuffixLength([0xF0, 0x9F, 0xA6, 0x99]), 0, "complete")
        XCTAssertEqual(TokenDecoder.unfinishedSuffixLength([0xE6]), 1)
        XCTAssertEqual(TokenDecoder.unfinishedSuffixLength([0xE0, 0x80]), 0, "overlong: can never complete")
        XCTAssertEqual(TokenDecoder.unfinishedSuffixLength([0xED, 0xA0]), 0, "surrogate")
        XCTAssertEqual(TokenDecoder.unfinishedSuffixLength([0xF4, 0x90]), 0, "past U+10FFFF")
        XCTAssertEqual(TokenDecoder.unfinishedSuffixLength([0xC0]), 0, "never a lead byte")
        XCTAssertEqual(TokenDecoder.unfinishedSuffixLength([0x80]), 0, "stray continuation")
    }

    func testDecoderEmitsReplacementForBrokenBytesAndAtFinish() throws {
        let spm = try makeTokenizer(try TokenizerFixture.vocabulary("spm-tiny"))
        var decoder = TokenDecoder(tokenizer: spm)
        XCTAssertEqual(decoder.append(bytes: [0xF0, 0x9F]), "")
        XCTAssertEqual(decoder.append(bytes: [0x41]), "\u{FFFD}A", "a sequence cut short by ASCII is broken for good")
        XCTAssertEqual(decoder.append(bytes: [0xE6, 0x97]), "")
        XCTAssertEqual(decoder.finish(), "\u{FFFD}")
        XCTAssertFalse(decoder.hasPendingBytes)
    }

    func testSpecialTokensStreamOnlyWhenAsked() throws {
        let bpe = try makeTokenizer(try TokenizerFixture.vocabulary("llama-bpe-tiny"))
        let eot = try XCTUnwrap(bpe.eotID)
        var plain = TokenDecoder(tokenizer: bpe)
        XCTAssertEqual(plain.append(eot), "")
        var rendered = TokenDecoder(tokenizer: bpe, renderSpecial: true)
        XCTAssertEqual(rendered.append(eot), "<|eot_id|>")
        XCTAssertTrue(bpe.isEndOfGeneration(eot))
    }

    // MARK: ids outside the vocabulary

    func testOutOfRangeIdsDecodeToNothing() throws {
        let bpe = try makeTokenizer(try TokenizerFixture.vocabulary("gpt2-tiny"))
        let n = bpe.vocabularySize
        XCTAssertEqual(bpe.pieceBytes(-1, renderSpecial: true), [])
        XCTAssertEqual(bpe.pieceBytes(n, renderSpecial: true), [])
        XCTAssertEqual(bpe.decode([n, -5, Int.max]), "")
        XCTAssertFalse(bpe.isEndOfGeneration(-1))
    }

    func testEveryEncodedIdIsInRange() throws {
        let prompts = try TokenizerFixture.prompts()
        for name in ["spm-tiny", "llama-bpe-tiny", "gpt2-tiny", "default-tiny"] {
            let t = try makeTokenizer(try TokenizerFixture.vocabulary(name))
            for p in prompts { XCTAssertTrue(t.encode(p).allSatisfy { (0..<t.vocabularySize).contains($0) }, name) }
        }
    }

    // MARK: bad vocabularies

    private func assertRefused(_ v: GGUFVocabulary, _ expected: TokenizerError, mentioning word: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try makeTokenizer(v), file: file, line: line) { error in
            XCTAssertEqual(error as? TokenizerError, expected, file: file, line: line)
            XCTAssertTrue("\(error)".contains(word), "\(error)", file: file, line: line)
        }
    }

    func testBadVocabulariesAreRefusedWithTheirReason() {
        let tokens = ["a", "b", "ab"]
        assertRefused(GGUFVocabulary(model: "bert", tokens: tokens), .unsupportedModel("bert"), mentioning: "bert")
        assertRefused(GGUFVocabulary(model: "gpt2", preTokenizer: "qwen2", tokens: tokens, merges: ["a b"]),
                      .unsupportedPreTokenizer("qwen2"), mentioning: "qwen2")
        assertRefused(GGUFVocabulary(model: "llama", tokens: []), .emptyVocabulary, mentioning: "no tokens")
        assertRefused(GGUFVocabulary(model: "llama", tokens: tokens, scores: [0]),
                      .countMismatch(field: "tokenizer.ggml.scores", expected: 3, found: 1), mentioning: "tokenizer.ggml.scores")
        assertRefused(GGUFVocabulary(model: "llama", tokens: tokens, tokenTypes: [1, 1]),
                      .countMismatch(field: "tokenizer.ggml.token_type", expected: 3, found: 2), mentioning: "token_type")
        assertRefused(GGUFVocabulary(model: "llama", tokens: ["a", "b", "a"]),
                      .duplicateToken(text: "a", firstID: 0, secondID: 2), mentioning: "twice")
        assertRefused(GGUFVocabulary(model: "gpt2", tokens: tokens), .missingField("tokenizer.ggml.merges"), mentioning: "merges")
        assertRefused(GGUFVocabulary(model: "gpt2", tokens: tokens, merges: ["ab"]),
                      .invalidField(field: "tokenizer.ggml.merges", reason: "merge 0 'ab' is not two parts separated by a space"),
                      mentioning: "merge 0")
        // add_bos with a BOS id outside a 1-token vocabulary (and no usable default).
        assertRefused(GGUFVocabulary(model: "llama", tokens: ["a"], bosID: 7, addBOS: true),
                      .missingField("tokenizer.ggml.bos_token_id (add_bos_token is set)"), mentioning: "bos_token_id")
    }

    func testGGUFWithMistypedKeyIsRefusedByKeyName() throws {
        let path = TokenizerFixture.directory.appendingPathComponent("bad-token-list.gguf").path
        XCTAssertThrowsError(try GGUFVocabulary(gguf: GGUFFile(path: path))) { error in
            guard case .invalidField(let field, _) = error as? TokenizerError else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "tokenizer.ggml.tokens")
        }
    }

    func testOutOfRangeSpecialIdsFallBackToDefaultsAsInLlamaCpp() throws {
        // llama.cpp ignores a BOS id past the vocabulary and keeps the SentencePiece default, 1.
        let v = GGUFVocabulary(model: "llama", tokens: ["<unk>", "<s>", "</s>", "▁a"], tokenTypes: [2, 3, 3, 1], bosID: 99)
        let t = try makeTokenizer(v)
        XCTAssertEqual(t.bosID, 1)
        XCTAssertEqual(t.encode("a"), [1, 3])
    }

    // MARK: hand-checked splits

    private func words(_ split: PreTokenizer, _ text: String) -> [String] {
        let cpts = text.unicodeScalars.map(\.value)
        var start = 0
        return split.split(cpts).map { n in
            defer { start += n }
            return String(String.UnicodeScalarView(cpts[start..<(start + n)].map { Unicode.Scalar($0)! }))
        }
    }

    func testPreTokenizerSplitsFollowLlamaCppQuirks() {
        XCTAssertEqual(words(.gpt2, "Hello world"), ["Hello", " world"])
        XCTAssertEqual(words(.gpt2, "   a"), ["  ", " a"], "\\s+(?!\\S) leaves the last space to the word")
        XCTAssertEqual(words(.gpt2, "a   "), ["a", "   "], "a run reaching the end stays whole")
        XCTAssertEqual(words(.gpt2, "I'M it's"), ["I", "'", "M", " it", "'s"], "GPT-2 contractions are lower case only")
        XCTAssertEqual(words(.llama3, "I'M it's"), ["I", "'M", " it", "'s"], "LLaMA-3's (?i:…) folds case")
        XCTAssertEqual(words(.llama3, "1234567"), ["123", "456", "7"])
        XCTAssertEqual(words(.llama3, "a \n\n b"), ["a", " \n\n", " b"])
        XCTAssertEqual(words(.smollm, "abc123 x"), ["abc", "1", "2", "3", " x"])
        XCTAssertEqual(words(.default, "a...b 1234567"), ["a", "...", "b", " ", "123", "456", "7"])
        // llama.cpp's Unicode tables are 15.1: U+2EBF0 (CJK Ext. I, 15.1) is a letter, U+10D50 (Garay, 16.0)
        // is unassigned there, whatever Swift's newer tables say.
        XCTAssertEqual(words(.gpt2, "x\u{2EBF0}y"), ["x\u{2EBF0}y"])
        XCTAssertEqual(words(.gpt2, "x\u{10D50}y"), ["x", "\u{10D50}", "y"])
    }

    func testCanonicallyEquivalentTokensStayDistinct() throws {
        // "é" precomposed and decomposed are equal Swift Strings, but different tokens for llama.cpp.
        let v = GGUFVocabulary(model: "llama", tokens: ["<unk>", "<s>", "</s>", "▁", "\u{E9}", "e\u{301}", "e", "\u{301}"],
                               scores: [0, 0, 0, -1, -2, -3, -4, -5], tokenTypes: [2, 3, 3, 1, 1, 1, 1, 1], addBOS: false)
        let t = try makeTokenizer(v)
        XCTAssertEqual(t.encode("\u{E9}"), [3, 4])
        XCTAssertEqual(t.encode("e\u{301}"), [3, 5])
    }
}
