import Foundation
import XCTest
import WeightIO
@testable import LLM

/// Golden renders come from tools/make_chat_fixtures.py (jinja2 3.1.6 with the real templates: SmolLM2's from
/// its GGUF, Llama-2-chat's and Llama-3-Instruct's from their tokenizer_config.json).
final class ChatTemplateTests: XCTestCase {
    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("chat")

    struct Conversations: Decodable {
        struct Case: Decodable {
            var name: String
            var messages: [ChatMessage]
            var add_generation_prompt: Bool
        }
        var cases: [Case]
        var refused: [String: [String]]
    }

    func testRendersMatchJinja() throws {
        let conversations = try JSONDecoder().decode(Conversations.self, from: Data(contentsOf: Self.directory.appendingPathComponent("conversations.json")))
        XCTAssertGreaterThanOrEqual(conversations.cases.count, 8)
        for name in ["smollm2", "llama2", "llama3"] {
            let jinja = try String(contentsOf: Self.directory.appendingPathComponent("\(name).jinja"), encoding: .utf8)
            let template = try XCTUnwrap(ChatTemplate(jinja: jinja), name)
            let system = ChatTemplate.injectedSystemPrompt(in: jinja)
            for c in conversations.cases {
                let label = "\(name) \(c.name)"
                if conversations.refused[name, default: []].contains(c.name) {
                    XCTAssertThrowsError(try template.render(c.messages, addGenerationPrompt: c.add_generation_prompt, defaultSystemPrompt: system), label)
                    continue
                }
                let expected = try String(contentsOf: Self.directory.appendingPathComponent("\(name).\(c.name).txt"), encoding: .utf8)
                let got = try template.render(c.messages, addGenerationPrompt: c.add_generation_prompt, defaultSystemPrompt: system)
                if got != expected {
                    let first = zip(got.unicodeScalars, expected.unicodeScalars).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                    XCTFail("\(label): render differs from jinja2 at scalar \(first.map(String.init) ?? "end")\n got:      \(got.debugDescription)\n expected: \(expected.debugDescription)")
                }
            }
        }
    }

    func testDetectsTemplatesFromJinja() throws {
        func jinja(_ name: String) throws -> String {
            try String(contentsOf: Self.directory.appendingPathComponent("\(name).jinja"), encoding: .utf8)
        }
        XCTAssertEqual(ChatTemplate(jinja: try jinja("smollm2")), .chatML)
        XCTAssertEqual(ChatTemplate(jinja: try jinja("llama2")), .llama2)
        XCTAssertEqual(ChatTemplate(jinja: try jinja("llama3")), .llama3)
        XCTAssertEqual(ChatTemplate.injectedSystemPrompt(in: try jinja("smollm2")),
                       "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        XCTAssertNil(ChatTemplate.injectedSystemPrompt(in: try jinja("llama2")))
        XCTAssertNil(ChatTemplate.injectedSystemPrompt(in: try jinja("llama3")))
        // Qwen-style ChatML without a default system prompt.
        XCTAssertNil(ChatTemplate.injectedSystemPrompt(in: "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n'}}{% endfor %}"))
        // The same literal with escaped newlines, as a tokenizer_config.json string holds it before JSON decoding.
        XCTAssertEqual(ChatTemplate.injectedSystemPrompt(in: "{% if messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nBe nice.<|im_end|>\\n' }}{% endif %}"), "Be nice.")
        XCTAssertNil(ChatTemplate(jinja: "{{ bos_token }}{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}"), "Mistral [INST] without <<SYS>>")
        XCTAssertNil(ChatTemplate(jinja: "<|im_start|>user<|im_sep|>"), "Phi-4")
        XCTAssertNil(ChatTemplate(jinja: "{{ messages }}"))
        XCTAssertNil(ChatTemplate(jinja: ""))
    }

    func testSmolLM2GGUFTemplateIsChatMLWithItsSystemPrompt() throws {
        let path = TokenizerGoldenTests.smolLM2Path
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("default model missing at \(path): run scripts/setup.sh") }
        let vocabulary = try GGUFVocabulary(gguf: GGUFFile(path: path))
        let jinja = try XCTUnwrap(vocabulary.chatTemplate)
        XCTAssertEqual(ChatTemplate(jinja: jinja), .chatML)
        XCTAssertEqual(ChatTemplate.injectedSystemPrompt(in: jinja), "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
    }

    func testOverrideByName() throws {
        XCTAssertEqual(try ChatTemplate(name: "ChatML"), .chatML)
        XCTAssertEqual(try ChatTemplate(name: "llama-2"), .llama2)
        XCTAssertEqual(try ChatTemplate(name: "Llama3"), .llama3)
        XCTAssertThrowsError(try ChatTemplate(name: "vicuna")) { error in
            XCTAssertEqual(error as? ChatTemplateError, .unknownTemplateName("vicuna"))
            XCTAssertTrue("\(error)".contains("chatml, llama2, llama3"), "\(error)")
        }
    }

    func testConfiguredSystemPromptReplacesTheDefaultButNotAnExplicitOne() throws {
        let user = [ChatMessage(role: .user, content: "Hi")]
        for template in ChatTemplate.allCases {
            XCTAssertEqual(try template.render(user, defaultSystemPrompt: "Be brief."),
                           try template.render([ChatMessage(role: .system, content: "Be brief.")] + user))
            let explicit = [ChatMessage(role: .system, content: "Speak French.")] + user
            XCTAssertEqual(try template.render(explicit, defaultSystemPrompt: "Be brief."), try template.render(explicit))
        }
    }

    func testEncodeAddsBOSOnlyWhenTheTemplateDoesNot() throws {
        let tokenizer = try makeTokenizer(try TokenizerFixture.vocabulary("llama-bpe-tiny"))
        let bos = try XCTUnwrap(tokenizer.bosID)
        let ids = try ChatTemplate.llama3.encode([ChatMessage(role: .user, content: "Hi")], tokenizer: tokenizer)
        XCTAssertEqual(ids.first, bos)
        XCTAssertEqual(ids.filter { $0 == bos }.count, 1, "one BOS, written by the template: \(ids)")
        let header = try XCTUnwrap(tokenizer.encode("<|start_header_id|>", addSpecial: false, parseSpecial: true).first)
        XCTAssertEqual(ids[1], header, "the template's special tokens are parsed, not spelled out")
    }

    // MARK: trimming

    /// One token per character of the rendered ChatML prompt: simple to reason about.
    private func characters(_ messages: [ChatMessage]) throws -> Int { try ChatTemplate.chatML.render(messages).count }

    private var history: [ChatMessage] {
        [ChatMessage(role: .system, content: "sys"),
         ChatMessage(role: .user, content: "first question"), ChatMessage(role: .assistant, content: "first answer"),
         ChatMessage(role: .user, content: "second question"), ChatMessage(role: .assistant, content: "second answer"),
         ChatMessage(role: .user, content: "third question")]
    }

    func testHistoryThatFitsIsKept() throws {
        let all = try characters(history)
        XCTAssertEqual(try ChatHistory.fitToContext(history, maxTokens: all, tokenCount: characters), history)
    }

    func testOverflowDropsOldestTurnsKeepingSystemAndLatestTurn() throws {
        let all = try characters(history)
        let fitted = try ChatHistory.fitToContext(history, maxTokens: all - 1, tokenCount: characters)
        XCTAssertEqual(fitted, [history[0]] + history[3...])
        let minimal = try ChatHistory.fitToContext(history, maxTokens: try characters([history[0], history[5]]), tokenCount: characters)
        XCTAssertEqual(minimal, [history[0], history[5]])
    }

    func testOverflowOfTheLatestTurnAloneThrows() throws {
        let need = try characters([history[0], history[5]])
        XCTAssertThrowsError(try ChatHistory.fitToContext(history, maxTokens: need - 1, tokenCount: characters)) { error in
            XCTAssertEqual(error as? ChatTemplateError, .promptTooLong(tokens: need, limit: need - 1))
            XCTAssertTrue("\(error)".contains("\(need) tokens"), "\(error)")
        }
    }

    func testTrimmedLlama2HistoryStillAlternates() throws {
        let tokenizer = try makeTokenizer(try TokenizerFixture.vocabulary("spm-tiny"))
        let full = try ChatTemplate.llama2.encode(history, tokenizer: tokenizer).count
        let fitted = try ChatHistory.fitToContext(history, template: .llama2, tokenizer: tokenizer, maxTokens: full - 1)
        XCTAssertLessThan(fitted.count, history.count)
        XCTAssertEqual(fitted.first, history[0])
        XCTAssertEqual(fitted.last, history[5])
        XCTAssertLessThanOrEqual(try ChatTemplate.llama2.encode(fitted, tokenizer: tokenizer).count, full - 1)
    }

    func testSmolLM2DefaultSystemPromptIsCountedWhenTrimming() throws {
        let tokenizer = try makeTokenizer(try TokenizerFixture.vocabulary("llama-bpe-tiny"))
        let noSystem = Array(history.dropFirst())
        let prompt = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
        let withDefault = try ChatTemplate.chatML.encode(noSystem, tokenizer: tokenizer, defaultSystemPrompt: prompt).count
        let fitted = try ChatHistory.fitToContext(noSystem, template: .chatML, tokenizer: tokenizer, maxTokens: withDefault - 1, defaultSystemPrompt: prompt)
        XCTAssertEqual(fitted.first, noSystem[2], "the oldest turn goes because the default system prompt takes room")
    }
}

final class ChatFormatTests: XCTestCase {
    private func jinja(_ name: String) throws -> String {
        try String(contentsOf: ChatTemplateTests.directory.appendingPathComponent("\(name).jinja"), encoding: .utf8)
    }

    func testSmolLM2FormatCarriesItsSystemPromptUnlessTheUserGivesOne() throws {
        let smol = try jinja("smollm2")
        XCTAssertEqual(try ChatFormat(chatTemplate: smol),
                       ChatFormat(template: .chatML, defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
        XCTAssertEqual(try ChatFormat(chatTemplate: smol, systemPrompt: "Be terse."),
                       ChatFormat(template: .chatML, defaultSystemPrompt: "Be terse."))
        // Overriding the template drops SmolLM2's ChatML-specific default.
        XCTAssertEqual(try ChatFormat(chatTemplate: smol, override: "llama3"), ChatFormat(template: .llama3))
        let expected = try String(contentsOf: ChatTemplateTests.directory.appendingPathComponent("smollm2.single-user.txt"), encoding: .utf8)
        XCTAssertEqual(try ChatFormat(chatTemplate: smol).render([ChatMessage(role: .user, content: "Hello!")]), expected)
    }

    func testFormatWithoutTemplateIsChatMLAndUnknownTemplatesAreRefused() throws {
        XCTAssertEqual(try ChatFormat(chatTemplate: nil), ChatFormat(template: .chatML))
        XCTAssertEqual(try ChatFormat(chatTemplate: try jinja("llama2")), ChatFormat(template: .llama2))
        XCTAssertThrowsError(try ChatFormat(chatTemplate: "{{ messages }}")) { error in
            XCTAssertEqual(error as? ChatTemplateError, .unrecognizedTemplate)
            XCTAssertTrue("\(error)".contains("--chat-template"), "\(error)")
        }
        XCTAssertEqual(try ChatFormat(chatTemplate: "{{ messages }}", override: "chatml"), ChatFormat(template: .chatML))
    }

    func testFormatTrimsWithItsSystemPrompt() throws {
        let tokenizer = try makeTokenizer(try TokenizerFixture.vocabulary("llama-bpe-tiny"))
        let format = ChatFormat(template: .chatML, defaultSystemPrompt: "Answer in one word.")
        let turns = [ChatMessage(role: .user, content: "one"), ChatMessage(role: .assistant, content: "two"),
                     ChatMessage(role: .user, content: "three")]
        let full = try format.encode(turns, tokenizer: tokenizer).count
        XCTAssertEqual(try format.fit(turns, tokenizer: tokenizer, maxTokens: full), turns)
        XCTAssertEqual(try format.fit(turns, tokenizer: tokenizer, maxTokens: full - 1), [turns[2]])
    }
}
