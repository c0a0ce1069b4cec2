import Diffusion
import Foundation
import LLM

/// A session's generation settings, changed by slash commands between turns.
public struct SessionSettings: Sendable, Equatable {
    /// Text sampling; its `seed` is replaced by `seed` on every turn.
    public var sampling = GenerateParameters()
    /// The seed of the next turn, text or picture. Each turn that samples uses it and then adds one,
    /// so "another one" gets a new picture and a whole conversation replays exactly from its first seed.
    public var seed: UInt64 = 0
    public var steps = 20
    public var guidance: Float = 7.5
    public var scheduler: SchedulerKind = .pndm
    /// nil: the drawing model's own size.
    public var width: Int?
    public var height: Int?
    public var negativePrompt = ""
    /// Where pictures are saved.
    public var outputFolder = URL(fileURLWithPath: "out")
    /// nil: the chat template's own (SmolLM2's names itself).
    public var systemPrompt: String?

    public init() {}

    /// Checks what the pipeline and sampler would otherwise reject mid-turn.
    public func validate() throws {
        do { try sampling.validate() } catch { throw ChatError.badCommand("\(error)") }
        guard (1...1000).contains(steps) else { throw ChatError.badCommand("steps must be in 1...1000, got \(steps)") }
        guard guidance.isFinite, guidance >= 0, guidance <= 100 else {
            throw ChatError.badCommand("guidance must be in 0...100, got \(guidance)")
        }
        for side in [width, height].compactMap({ $0 }) where !(1...4096).contains(side) {
            throw ChatError.badCommand("picture sides must be in 1...4096, got \(side)")
        }
    }
}

/// A slash command, typed in the REPL or written as a directive in a script.
public enum SessionCommand: Equatable, Sendable {
    // Turns with a forced route.
    case image(String)
    case chat(String)
    // Settings.
    case seed(UInt64)
    case steps(Int)
    case guidance(Float)
    case size(width: Int, height: Int)
    case defaultSize
    case scheduler(SchedulerKind)
    case temperature(Float)
    case maxTokens(Int)
    case system(String?)
    case reset
    // Front-end commands (the REPL's; a script may not use them).
    case help
    case route
    case save(String)
    case quit

    /// Whether a script may use it: everything but the REPL's own commands.
    public var isDirective: Bool {
        switch self {
        case .help, .route, .save, .quit: false
        default: true
        }
    }

    /// One line of help per command, for `/help` and the README.
    public static let helpLines: [(String, String)] = [
        ("/image TEXT", "draw TEXT, whatever the router would say"),
        ("/chat TEXT", "answer TEXT in words, whatever the router would say"),
        ("/route", "the last routing decision: probabilities and the features behind it"),
        ("/seed N", "seed of the next turn (each turn then adds one)"),
        ("/steps N", "denoising steps per picture"),
        ("/guidance X", "classifier-free guidance scale (1 or less: off)"),
        ("/size WxH", "picture size in pixels (/size default: the model's own)"),
        ("/scheduler NAME", "one of " + SchedulerKind.allCases.map(\.rawValue).joined(separator: ", ")),
        ("/temperature T", "text sampling temperature (0: greedy)"),
        ("/max-tokens N", "longest text reply in tokens"),
        ("/system TEXT", "system prompt (/system alone: the template's own)"),
        ("/reset", "forget the conversation (settings stay)"),
        ("/save FILE", "write the conversation so far as a Markdown transcript"),
        ("/help", "this list"),
        ("/quit", "leave (Ctrl-D too)"),
    ]

    /// Parses a line starting with "/"; nil when the line is not a command (no leading slash).
    /// - Throws: `ChatError.badCommand` naming the command and what is wrong with it.
    public static func parse(_ line: String) throws -> SessionCommand? {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("/") else { return nil }
        let name: Substring
        let argument: String
        if let space = trimmed.firstIndex(where: { $0.isWhitespace }) {
            name = trimmed[trimmed.index(after: trimmed.startIndex)..<space]
            argument = trimmed[space...].trimmingCharacters(in: .whitespaces)
        } else {
            name = trimmed.dropFirst()
            argument = ""
        }
        func need(_ what: String) throws -> String {
            guard !argument.isEmpty else { throw ChatError.badCommand("/\(name) needs \(what)") }
            return argument
        }
        func number<T: LosslessStringConvertible>(_ what: String, _: T.Type) throws -> T {
            let text = try need(what)
            guard let value = T(text) else { throw ChatError.badCommand("/\(name): '\(text)' is not \(what)") }
            return value
        }
        switch name.lowercased() {
        case "image", "draw": return .image(try need("something to draw"))
        case "chat": return .chat(try need("a message"))
        case "seed": return .seed(try number("a whole number from 0 to 2^64-1", UInt64.self))
        case "steps": return .steps(try number("a whole number of steps", Int.self))
        case "guidance", "cfg": return .guidance(try number("a number", Float.self))
        case "temperature", "temp": return .temperature(try number("a number", Float.self))
        case "max-tokens": return .maxTokens(try number("a whole number of tokens", Int.self))
        case "size":
            let text = try need("WxH, a single side, or 'default'")
            if text.lowercased() == "default" { return .defaultSize }
            let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let w = Int(parts[0]), let h = Int(parts.last!) else {
                throw ChatError.badCommand("/size: '\(text)' is not WxH (e.g. 64x64), a single side or 'default'")
            }
            return .size(width: w, height: h)
        case "scheduler", "sampler":
            let text = try need("a scheduler name")
            guard let kind = SchedulerKind(rawValue: text.lowercased()) else {
                throw ChatError.badCommand("/scheduler: '\(text)' is none of " + SchedulerKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return .scheduler(kind)
        case "system": return .system(argument.isEmpty ? nil : argument)
        case "reset": return .reset
        case "help", "?": return .help
        case "route": return .route
        case "save": return .save(try need("a file name"))
        case "quit", "exit", "q": return .quit
        default: throw ChatError.badCommand("unknown command /\(name) (/help lists them)")
        }
    }
}
