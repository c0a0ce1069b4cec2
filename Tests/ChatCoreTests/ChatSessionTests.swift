import Diffusion
import Foundation
import LLM
import Router
import XCTest
@testable import ChatCore

/// Engine turns with the real default chat model (SmolLM2-135M-Instruct) and router.
final class ChatSessionTests: XCTestCase {
    func testChatTurnStreamsTextAndEndsAtEndOfTurn() throws {
        let session = try TestModels.session(drawer: nil)
        let log = EventLog()
        let record = session.send("What is 2 + 2? Answer with one number.", events: log.record)
        XCTAssertEqual(log.errors, [])
        XCTAssertEqual(log.route?.route, .chat)
        XCTAssertEqual(log.route?.forced, false)
        XCTAssertLessThan(log.route?.imageProbability ?? 1, 0.5, "the router's P(image) comes with the route")
        XCTAssertEqual(log.names.first, "routed")
        XCTAssertEqual(log.names.last, "finished")
        XCTAssertGreaterThan(log.tokens.count, 0, "the reply streams")
        XCTAssertEqual(log.tokens.joined(), record.reply)
        XCTAssertEqual(record.stopReason, .endOfGeneration, "reply: \(record.reply ?? "")")
        XCTAssertEqual(record.outcome, .replied)
        XCTAssertTrue(record.reply?.contains("4") == true, record.reply ?? "")
        XCTAssertNotNil(record.timings.firstToken)
        XCTAssertEqual(session.history.map(\.role), [.user, .assistant])
        XCTAssertEqual(record.seed, 7)
        XCTAssertEqual(session.settings.seed, 8, "each turn moves the seed on")
        XCTAssertEqual(session.previousRoute, .chat)
    }

    func testSecondTurnReusesTheCachedConversation() throws {
        let session = try TestModels.session(drawer: nil, maxTokens: 24)
        session.send("Name a colour.")
        let second = session.send("Name another one.")
        XCTAssertEqual(second.outcome, .replied)
        XCTAssertEqual(session.history.count, 4)
        XCTAssertGreaterThan(second.promptTokens ?? 0, 30)
    }

    func testForcedChatRouteOverridesTheRouter() throws {
        let session = try TestModels.session(drawer: nil, maxTokens: 8)
        let decision = session.router.decide("draw a red fox in the snow", previous: nil)
        XCTAssertEqual(decision.route, .image, "precondition: the router would draw this")
        let log = EventLog()
        let record = session.send("/chat draw a red fox in the snow", events: log.record)
        XCTAssertEqual(record.route, RouteChoice(route: .chat, forced: true, imageProbability: nil))
        XCTAssertEqual(record.route?.probability, 1)
        XCTAssertEqual(record.user, "draw a red fox in the snow", "the command word is not part of the message")
        XCTAssertEqual(record.outcome, .replied)
        XCTAssertGreaterThan(log.tokens.count, 0)
        XCTAssertEqual(session.history.first?.content, "draw a red fox in the snow")
    }

    func testHistoryPastTheContextWindowIsTrimmedFromTheOldestTurns() throws {
        let session = try TestModels.session(drawer: nil, contextLength: 256, maxTokens: 12)
        var dropped = 0
        for i in 0..<5 {
            let record = session.send("/chat Message \(i): " + String(repeating: "tell me more about the weather. ", count: 6))
            XCTAssertEqual(record.outcome, .replied, record.error ?? "")
            dropped = record.droppedMessages ?? 0
        }
        XCTAssertGreaterThan(dropped, 0, "five long turns do not fit 256 tokens")
        XCTAssertEqual(dropped % 2, 0, "whole turns go")
        XCTAssertEqual(session.contextStart, dropped)
        XCTAssertEqual(session.history.count, 10, "the session keeps the whole conversation; only the prompt is trimmed")
        let next = session.send("/chat Say hi.")
        XCTAssertEqual(next.outcome, .replied)
        XCTAssertGreaterThanOrEqual(next.droppedMessages ?? 0, dropped, "trimmed turns stay out of later prompts")
        XCTAssertLessThan(next.promptTokens ?? .max, 256)
    }

    func testFailedTurnsReportAnErrorAndLeaveTheSessionUsable() throws {
        let session = try TestModels.session(drawer: nil, contextLength: 256, maxTokens: 8)
        session.send("/chat Hello!")
        let before = session.history

        // Longer than the whole context: ChatHistory refuses to cut the latest message.
        let log = EventLog()
        let long = session.send("/chat " + String(repeating: "word ", count: 600), events: log.record)
        XCTAssertEqual(long.outcome, .failed)
        XCTAssertEqual(log.names.suffix(2), ["error", "finished"])
        XCTAssertTrue(log.errors.first?.contains("tokens") == true, log.errors.first ?? "")
        XCTAssertEqual(session.history, before, "a failed turn leaves no trace in the history")

        // No drawing model: an image turn is an error, not a crash.
        let image = session.send("/image a red circle")
        XCTAssertEqual(image.outcome, .failed)
        XCTAssertEqual(image.error, ChatError.noDrawingModel.description)

        for bad in ["", "   ", "/image", "/frobnicate now", "/seed 3"] {
            let r = session.send(bad)
            XCTAssertEqual(r.outcome, .failed, "'\(bad)' is not a turn")
            XCTAssertNotNil(r.error)
        }
        XCTAssertEqual(session.history, before)

        let after = session.send("/chat What is 2 + 2?")
        XCTAssertEqual(after.outcome, .replied, after.error ?? "")
        XCTAssertEqual(session.history.count, before.count + 2)
    }

    func testCancellingAReplyKeepsWhatWasSaidAndTheSessionGoesOn() throws {
        let session = try TestModels.session(drawer: nil, maxTokens: 200)
        let flag = CancellationFlag()
        var pieces = 0
        let record = session.send("/chat Write a long story about a dragon.", cancellation: flag) { event in
            if case .token = event { pieces += 1; if pieces == 3 { flag.cancel() } }
        }
        XCTAssertEqual(record.outcome, .cancelled)
        XCTAssertEqual(record.stopReason, .cancelled)
        XCTAssertLessThanOrEqual(record.replyTokens ?? 99, 6)
        XCTAssertEqual(session.history.last?.content, record.reply)
        XCTAssertEqual(session.send("/chat Hi").outcome, .replied)
    }

    func testStreamDeliversTheTurnsEvents() async throws {
        let session = try TestModels.session(drawer: nil, maxTokens: 16)
        var names: [String] = []
        var finished: TurnRecord?
        for await event in session.stream("/chat Say hello.") {
            switch event {
            case .routed: names.append("routed")
            case .token: if names.last != "token" { names.append("token") }
            case .finished(let r): names.append("finished"); finished = r
            default: names.append("other")
            }
        }
        XCTAssertEqual(names, ["routed", "token", "finished"])
        XCTAssertEqual(finished?.outcome, .replied)
    }

    func testSettingsCommandsValidateAndApply() throws {
        let session = try TestModels.session(drawer: nil)
        XCTAssertEqual(try session.apply(.seed(42)), "seed 42")
        XCTAssertEqual(session.settings.seed, 42)
        try session.apply(.steps(12))
        try session.apply(.guidance(3))
        try session.apply(.size(width: 64, height: 32))
        try session.apply(.scheduler(.eulerAncestral))
        try session.apply(.temperature(0))
        try session.apply(.system("Answer in French."))
        XCTAssertEqual(session.settings.steps, 12)
        XCTAssertEqual(session.settings.guidance, 3)
        XCTAssertEqual(session.settings.width, 64)
        XCTAssertEqual(session.settings.height, 32)
        XCTAssertEqual(session.settings.scheduler, .eulerAncestral)
        XCTAssertEqual(session.settings.systemPrompt, "Answer in French.")
        for bad: SessionCommand in [.steps(0), .steps(5000), .guidance(.nan), .size(width: 0, height: 8), .temperature(-1), .maxTokens(-2)] {
            XCTAssertThrowsError(try session.apply(bad), "\(bad)")
        }
        XCTAssertEqual(session.settings.steps, 12, "a refused setting changes nothing")
        XCTAssertThrowsError(try session.apply(.quit))
    }

    func testSlashCommandsParse() throws {
        XCTAssertEqual(try SessionCommand.parse("/seed 7"), .seed(7))
        XCTAssertEqual(try SessionCommand.parse("  /size 64x48 "), .size(width: 64, height: 48))
        XCTAssertEqual(try SessionCommand.parse("/size 64"), .size(width: 64, height: 64))
        XCTAssertEqual(try SessionCommand.parse("/size default"), .defaultSize)
        XCTAssertEqual(try SessionCommand.parse("/scheduler euler-a"), .scheduler(.eulerAncestral))
        XCTAssertEqual(try SessionCommand.parse("/image a cat  on a mat"), .image("a cat  on a mat"))
        XCTAssertEqual(try SessionCommand.parse("/system"), .system(nil))
        XCTAssertEqual(try SessionCommand.parse("/save out/t.md"), .save("out/t.md"))
        XCTAssertNil(try SessionCommand.parse("hello /seed 7"))
        for bad in ["/seed x", "/seed -1", "/steps", "/size 64y", "/size x", "/scheduler heun", "/nope", "/guidance abc"] {
            XCTAssertThrowsError(try SessionCommand.parse(bad), bad) { error in
                XCTAssertFalse("\(error)".isEmpty)
            }
        }
    }
}
