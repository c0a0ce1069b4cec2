import Foundation
import XCTest
@testable import LLM

/// The default SmolLM2 model end to end: template, streaming, stopping, seeds, cancellation.
final class ChatModelTests: XCTestCase {
    static var shared: ChatModel?

    func chatModel() throws -> ChatModel {
        guard FileManager.default.fileExists(atPath: LlamaCppParityTests.q4_1Path) else {
            throw XCTSkip("default model missing at \(LlamaCppParityTests.q4_1Path): run scripts/setup.sh (make test does)")
        }
        if let m = Self.shared { return m }
        let m = try ChatModel(path: LlamaCppParityTests.q4_1Path)
        Self.shared = m
        return m
    }

    func testSmolLM2IsChatMLWithItsOwnSystemPromptAndStopsAtEndOfTurn() throws {
        let chat = try chatModel()
        XCTAssertEqual(chat.template, .chatML)
        XCTAssertEqual(chat.defaultSystemPrompt, "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        XCTAssertTrue(chat.stopTokens.contains(2), "<|im_end|> (id 2) ends a turn")
        let context = chat.model.makeContext(contextLength: 512)
        var streamed: [String] = []
        let reply = try chat.reply(to: [ChatMessage(role: .user, content: "What is 2 + 2? Answer with one number.")],
                                   context: context, parameters: .greedy) { streamed.append($0) }
        XCTAssertEqual(reply.generation.stopReason, .endOfGeneration, "reply: \(reply.text)")
        XCTAssertGreaterThan(streamed.count, 0)
        XCTAssertEqual(streamed.joined(), reply.text)
        XCTAssertTrue(reply.text.contains("4"), reply.text)
    }

    func testSameSeedSameTextAndSecondTurnReusesTheCache() throws {
        let chat = try chatModel()
        var p = GenerateParameters()
        p.temperature = 0.9
        p.maxTokens = 24
        p.seed = 42
        let question = [ChatMessage(role: .user, content: "Name a colour.")]
        let a = try chat.reply(to: question, context: chat.model.makeContext(contextLength: 256), parameters: p) { _ in }
        let context = chat.model.makeContext(contextLength: 256)
        let b = try chat.reply(to: question, context: context, parameters: p) { _ in }
        XCTAssertEqual(a.text, b.text)
        let follow = question + [ChatMessage(role: .assistant, content: b.text), ChatMessage(role: .user, content: "Another one?")]
        let c = try chat.reply(to: follow, context: context, parameters: p) { _ in }
        XCTAssertGreaterThan(c.generation.reusedPromptTokens, 20, "the first turn's prompt stays cached")
    }

    func testStreamStopsWhenTheConsumerStops() async throws {
        let chat = try chatModel()
        var p = GenerateParameters.greedy
        p.maxTokens = 200
        let context = chat.model.makeContext(contextLength: 512)
        var pieces = 0
        for try await event in chat.replyStream(to: [ChatMessage(role: .user, content: "Write a long story about a dragon.")],
                                                context: context, parameters: p) {
            if case .text = event { pieces += 1 }
            if pieces == 3 { break }
        }
        // The generator notices the cancelled stream before its next token; give it a moment.
        try await Task.sleep(nanoseconds: 300_000_000)
        XCTAssertLessThan(context.length, 60 + 20, "generation went on after the consumer stopped (\(context.length) positions)")
    }

    func testHistoryLongerThanTheContextIsTrimmedFromTheOldestTurn() throws {
        let chat = try chatModel()
        var history: [ChatMessage] = []
        for i in 0..<12 {
            history.append(ChatMessage(role: .user, content: "Message number \(i): " + String(repeating: "words and more words ", count: 8)))
            history.append(ChatMessage(role: .assistant, content: "Reply \(i)."))
        }
        history.append(ChatMessage(role: .user, content: "Say hi."))
        var p = GenerateParameters.greedy
        p.maxTokens = 8
        let reply = try chat.reply(to: history, context: chat.model.makeContext(contextLength: 256), parameters: p) { _ in }
        XCTAssertGreaterThan(reply.droppedMessages, 0)
        XCTAssertEqual(reply.droppedMessages % 2, 0, "whole turns are dropped")
    }
}
