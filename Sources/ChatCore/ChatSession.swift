import Diffusion
import Foundation
import LLM
import Router

/// One conversation: the chat history, the generation settings and the last picture's caption, with
/// the models that answer it. Each user turn is routed (or forced by `/image`, `/chat`) and becomes
/// either a streamed text reply or a picture saved under the output folder.
///
/// The engine has no terminal code: a front end calls `send(_:cancellation:events:)` and renders the
/// `TurnEvent`s it is given (the REPL, `easel run`, tests). `send` runs the turn on the calling thread
/// and returns when it is over; `stream(_:)` runs it on a thread of its own as an AsyncSequence. A
/// session serves one turn at a time: it is not safe to call from two threads at once.
///
/// A turn that fails (a message too long for the context, a picture size the model refuses, no
/// drawing model) reports `.error` and leaves the history, the settings and the last caption as they
/// were, so the next turn works.
public final class ChatSession {
    public let chat: ChatModel
    public let context: LlamaContext
    public let router: NaiveBayesRouter
    public let drawer: (any ImageGenerating)?
    public var settings: SessionSettings
    public let captions = CaptionExtractor()

    /// Every message so far, including the ones that no longer fit the context.
    public private(set) var history: [ChatMessage] = []
    /// Every turn so far, failed ones included.
    public private(set) var turns: [TurnRecord] = []
    /// The caption of the last picture: what "make it blue" changes.
    public private(set) var lastCaption: String?
    /// The router's last decision (`/route`), with its explanation.
    public private(set) var lastDecision: RouteDecision?
    /// The route of the last turn that succeeded: the router's context for the next one.
    public private(set) var previousRoute: Route?
    /// Messages before this index have been trimmed out of the context window; later prompts start
    /// after them, so the cached prefix stays valid from turn to turn.
    public private(set) var contextStart = 0

    /// Longer messages are refused before tokenizing (a pasted book would only be trimmed away).
    public static let maxMessageCharacters = 100_000

    public init(chat: ChatModel, context: LlamaContext, router: NaiveBayesRouter, drawer: (any ImageGenerating)?,
                settings: SessionSettings = SessionSettings()) {
        self.chat = chat
        self.context = context
        self.router = router
        self.drawer = drawer
        self.settings = settings
    }

    /// The models by name, with no paths or times, so it reads the same on every machine:
    /// "chat: SmolLM2-135M-Instruct.Q4_1.gguf · drawing: easel-mini (CLIP text encoder) · router: 2482 turns".
    public var summary: String {
        "chat: \(URL(fileURLWithPath: chat.path).lastPathComponent) · drawing: "
            + (drawer.map { "\($0.modelName) (\($0.textEncoderName) text encoder)" } ?? "none")
            + " · router: \(router.model.imageTurns + router.model.chatTurns) turns"
    }

    /// Forgets the conversation; the settings stay.
    public func reset() {
        history.removeAll()
        turns.removeAll()
        lastCaption = nil
        lastDecision = nil
        previousRoute = nil
        contextStart = 0
        context.truncate(to: 0)
    }

    /// Applies a settings command and says what changed; turn and front-end commands are refused here.
    @discardableResult
    public func apply(_ command: SessionCommand) throws -> String {
        var s = settings
        let message: String
        switch command {
        case .seed(let n): s.seed = n; message = "seed \(n)"
        case .steps(let n): s.steps = n; message = "\(n) steps"
        case .guidance(let g): s.guidance = g; message = "guidance \(g)"
        case .size(let w, let h): s.width = w; s.height = h; message = "size \(w)x\(h)"
        case .defaultSize:
            s.width = nil; s.height = nil
            message = "size \(drawer.map { "\($0.defaultSize)x\($0.defaultSize)" } ?? "default") (the model's own)"
        case .scheduler(let k): s.scheduler = k; message = "scheduler \(k.rawValue)"
        case .temperature(let t): s.sampling.temperature = t; message = t == 0 ? "temperature 0 (greedy)" : "temperature \(t)"
        case .maxTokens(let n): s.sampling.maxTokens = n; message = "at most \(n) tokens per reply"
        case .system(let text):
            s.systemPrompt = text
            message = text.map { "system prompt: \($0)" } ?? "system prompt: the template's own"
        case .reset:
            reset()
            return "conversation cleared"
        case .image, .chat, .help, .route, .save, .quit:
            throw ChatError.badCommand("\(command) is not a setting")
        }
        try s.validate()
        settings = s
        return message
    }

    /// Runs one user turn: a message, or `/image …` / `/chat …`. Events go to `events` as they happen;
    /// `cancellation` stops generation between two tokens or two denoising steps (the partial reply is
    /// kept; a cancelled picture is not saved).
    @discardableResult
    public func send(_ text: String, cancellation: CancellationFlag? = nil, events: (TurnEvent) -> Void = { _ in }) -> TurnRecord {
        let clock = ContinuousClock()
        let start = clock.now
        var record = TurnRecord(user: text, route: nil, outcome: .failed, timings: .init())
        func finish(_ r: TurnRecord) -> TurnRecord {
            var r = r
            r.timings.total = (clock.now - start).seconds
            turns.append(r)
            if let error = r.error { events(.error(error)) }
            events(.finished(r))
            return r
        }
        do {
            var message = text.trimmingCharacters(in: .whitespacesAndNewlines)
            var forced: Route?
            switch try SessionCommand.parse(message) {
            case .image(let t)?: forced = .image; message = t
            case .chat(let t)?: forced = .chat; message = t
            case let other?: throw ChatError.badCommand("\(other) is a command, not a turn: use apply(_:)")
            case nil: break
            }
            record.user = message
            guard !message.isEmpty else { throw ChatError.emptyMessage }
            guard message.count <= Self.maxMessageCharacters else {
                throw ChatError.messageTooLong(characters: message.count, limit: Self.maxMessageCharacters)
            }
            let choice: RouteChoice
            if let forced {
                choice = RouteChoice(route: forced, forced: true, imageProbability: nil)
            } else {
                let decision = router.decide(message, previous: previousRoute)
                lastDecision = decision
                choice = RouteChoice(route: decision.route, forced: false, imageProbability: decision.imageProbability)
            }
            record.route = choice
            events(.routed(choice))
            switch choice.route {
            case .chat: try replyTurn(message, &record, cancellation: cancellation, start: start, events: events)
            case .image: try imageTurn(message, &record, cancellation: cancellation, start: start, events: events)
            }
        } catch {
            record.outcome = .failed
            record.error = Self.describe(error)
        }
        return finish(record)
    }

    /// `send` on a thread of its own. Ending the iteration early stops the generation.
    public func stream(_ text: String) -> AsyncStream<TurnEvent> {
        AsyncStream { continuation in
            let flag = CancellationFlag()
            continuation.onTermination = { _ in flag.cancel() }
            Thread.detachNewThread {
                self.send(text, cancellation: flag) { continuation.yield($0) }
                continuation.finish()
            }
        }
    }

    // MARK: Turns

    private func replyTurn(_ message: String, _ record: inout TurnRecord, cancellation: CancellationFlag?,
                           start: ContinuousClock.Instant, events: (TurnEvent) -> Void) throws {
        var parameters = settings.sampling
        parameters.seed = settings.seed
        let window = Array(history[contextStart...]) + [ChatMessage(role: .user, content: message)]
        let clock = ContinuousClock()
        var firstToken: Double?
        let reply = try chat.reply(to: window, context: context, parameters: parameters,
                                   systemPrompt: settings.systemPrompt, cancellation: cancellation) { piece in
            if firstToken == nil { firstToken = (clock.now - start).seconds }
            events(.token(piece))
        }
        record.seed = settings.seed
        settings.seed &+= 1
        record.reply = reply.text
        record.stopReason = reply.generation.stopReason
        record.promptTokens = reply.generation.promptTokens
        record.replyTokens = reply.generation.tokens.count
        record.droppedMessages = contextStart + reply.droppedMessages
        record.timings.firstToken = firstToken
        record.outcome = reply.generation.stopReason == .cancelled ? .cancelled : .replied
        // The dropped messages stay out of later prompts too, so the cached prefix stays valid.
        contextStart += reply.droppedMessages
        // A reply stopped before its first word leaves no trace; a partial one stays, as the user saw it.
        guard !reply.text.isEmpty else { return }
        history.append(ChatMessage(role: .user, content: message))
        history.append(ChatMessage(role: .assistant, content: reply.text))
        if record.outcome == .replied { previousRoute = .chat }
    }

    private func imageTurn(_ message: String, _ record: inout TurnRecord, cancellation: CancellationFlag?,
                           start: ContinuousClock.Instant, events: (TurnEvent) -> Void) throws {
        guard let drawer else { throw ChatError.noDrawingModel }
        let caption = captions.caption(for: message, previous: lastCaption)
        guard !caption.text.isEmpty else {
            throw caption.kind == .again ? ChatError.nothingToRedo : ChatError.nothingToDraw(request: message)
        }
        record.caption = caption
        events(.caption(caption))
        var request = DrawRequest(caption: caption.text, seed: settings.seed, steps: settings.steps,
                                  guidance: settings.guidance, scheduler: settings.scheduler,
                                  width: settings.width, height: settings.height)
        request.negativePrompt = settings.negativePrompt
        let drawn: DrawnImage
        do {
            drawn = try drawer.draw(request) { p in
                events(.imageProgress(step: p.step, totalSteps: p.totalSteps, elapsed: p.elapsed))
                return cancellation?.isCancelled != true
            }
        } catch DiffusionError.cancelled {
            record.outcome = .cancelled
            record.seed = settings.seed
            settings.seed &+= 1
            return
        }
        let url = try ImageStore(folder: settings.outputFolder).save(drawn)
        let seconds = (ContinuousClock.now - start).seconds
        let saved = SavedImage(path: settings.outputFolder.appendingPathComponent(url.lastPathComponent).relativePath,
                               fileName: url.lastPathComponent, caption: caption.text, seed: request.seed,
                               steps: request.steps, guidance: request.guidance, scheduler: request.scheduler.rawValue,
                               width: drawn.metadata.width, height: drawn.metadata.height, seconds: seconds)
        record.image = saved
        record.seed = request.seed
        record.timings.image = seconds
        record.outcome = .drew
        events(.imageSaved(saved))
        settings.seed &+= 1
        lastCaption = caption.text
        previousRoute = .image
        // Later text turns see that a picture was made, by file name (not the full path, so a
        // scripted run reads the same wherever its folder is).
        history.append(ChatMessage(role: .user, content: message))
        history.append(ChatMessage(role: .assistant, content: "[image: \(saved.fileName) — \(caption.text)]"))
    }

    /// The error's own message (every Easel error type describes itself).
    static func describe(_ error: Error) -> String { "\(error)" }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
