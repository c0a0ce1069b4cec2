import Foundation
import LLM

/// One step of a conversation as a transcript records it: a turn, a settings command, or a script
/// line that could not be run.
public struct TranscriptEntry: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case turn, directive, error }
    public var kind: Kind
    /// The script line it came from (nil in the REPL).
    public var line: Int?
    /// A directive as written, or the bad line's problem.
    public var command: String?
    /// What a directive changed ("seed 7"), or the error.
    public var result: String?
    public var turn: TurnRecord?

    public static func turn(_ record: TurnRecord, line: Int? = nil) -> TranscriptEntry {
        TranscriptEntry(kind: .turn, line: line, turn: record)
    }

    public static func directive(_ text: String, result: String, line: Int? = nil) -> TranscriptEntry {
        TranscriptEntry(kind: .directive, line: line, command: text, result: result)
    }

    public static func error(_ message: String, command: String? = nil, line: Int?) -> TranscriptEntry {
        TranscriptEntry(kind: .error, line: line, command: command, result: message)
    }

    /// False for a failed turn or an error line.
    public var succeeded: Bool {
        switch kind {
        case .turn: turn?.succeeded ?? false
        case .directive: true
        case .error: false
        }
    }
}

/// Plays a `ChatScript` through a session: each turn as the REPL would send it, each directive
/// applied, each bad line reported with its number.
public struct TranscriptRunner {
    /// Stop at the first failed turn or bad line (the default), or go on to the end.
    public var keepGoing = false

    public init(keepGoing: Bool = false) { self.keepGoing = keepGoing }

    public struct Result {
        public var entries: [TranscriptEntry]
        /// True when the run stopped early at a failure.
        public var stopped: Bool
        public var succeeded: Bool { !stopped && entries.allSatisfy(\.succeeded) }
    }

    /// `onEntry` sees each entry as it is recorded (progress for the terminal); `events` sees the turns' events.
    public func run(_ script: ChatScript, session: ChatSession, events: (TurnEvent) -> Void = { _ in },
                    onEntry: (TranscriptEntry) -> Void = { _ in }) -> Result {
        var entries: [TranscriptEntry] = []
        for (index, item) in script.items.enumerated() {
            let entry: TranscriptEntry
            switch item.kind {
            case .turn(let text):
                entry = .turn(session.send(text, events: events), line: item.line)
            case .directive(let command, let text):
                do {
                    entry = .directive(text, result: try session.apply(command), line: item.line)
                } catch {
                    entry = .error("\(script.path):\(item.line): \(error)", command: text, line: item.line)
                }
            case .bad(let reason):
                entry = .error("\(script.path):\(item.line): \(reason)", line: item.line)
            }
            entries.append(entry)
            onEntry(entry)
            if !entry.succeeded && !keepGoing {
                return Result(entries: entries, stopped: index < script.items.count - 1)
            }
        }
        return Result(entries: entries, stopped: false)
    }
}

/// Writes transcripts: Markdown for people (image links render in any Markdown viewer) and JSONL
/// for programs. With `timings` off both are byte-for-byte reproducible from fixed seeds and greedy
/// decoding, which makes a transcript a golden test.
public struct TranscriptWriter {
    /// A line under the title: the models and how they were loaded.
    public var header: String
    public var timings: Bool

    public init(header: String, timings: Bool = true) {
        self.header = header
        self.timings = timings
    }

    /// The Markdown transcript; image links are relative to `folder`, where it will be saved.
    public func markdown(_ entries: [TranscriptEntry], title: String, folder: URL, stoppedEarly: Bool = false) -> String {
        var out = "# \(title)\n\n\(header)\n"
        var turnNumber = 0
        for entry in entries {
            out += "\n"
            let at = entry.line.map { "line \($0): " } ?? ""
            switch entry.kind {
            case .directive:
                out += "`\(entry.command ?? "")` — \(entry.result ?? "")\n"
            case .error:
                out += "**Error** (\(at)\(entry.command.map { "`\($0)`" } ?? "script")): \(entry.result ?? "")\n"
            case .turn:
                guard let t = entry.turn else { continue }
                turnNumber += 1
                let command = t.route?.forced == true ? "`/\(t.route!.route.rawValue)` " : ""
                out += "---\n\n**You:** \(command)\(Self.quoteBlock(t.user))\n\n"
                if let r = t.route {
                    out += "*route: \(r.route.rawValue)" + (r.forced ? " (forced)" : ", p = \(Self.fixed(r.probability, 3)), P(image) = \(Self.fixed(r.imageProbability ?? 0, 3))")
                    if let c = t.caption { out += " · caption: “\(c.text)” (\(c.kind.rawValue))" }
                    out += "*\n\n"
                }
                if let reply = t.reply, t.image == nil {
                    out += "**Easel:** \(reply)\n\n"
                }
                if let image = t.image {
                    out += "![\(Self.altText(image.caption))](\(Self.link(to: image.path, from: folder)))\n\n"
                    out += "<sub>\(image.width)×\(image.height), seed \(image.seed), \(image.steps) steps, guidance \(Self.trimmed(image.guidance)), \(image.scheduler)"
                    if timings, let s = t.timings.image { out += " · Enter to picture \(Self.fixed(s, 2)) s" }
                    out += "</sub>\n"
                } else if t.outcome == .replied || t.outcome == .cancelled, t.reply != nil {
                    var parts = ["\(t.replyTokens ?? 0) tokens"]
                    if let stop = t.stopReason { parts.append(Self.words(stop)) }
                    if let d = t.droppedMessages, d > 0 { parts.append("\(d) early messages out of the context") }
                    if timings {
                        if let f = t.timings.firstToken { parts.append("first token \(Self.fixed(f, 2)) s") }
                        parts.append("\(Self.fixed(t.timings.total, 2)) s in all")
                    }
                    out += "<sub>\(parts.joined(separator: " · "))</sub>\n"
                }
                if t.outcome == .cancelled, t.route?.route == .image { out += "*(picture stopped by the user)*\n" }
                if let error = t.error { out += "**Error** (\(at)turn \(turnNumber)): \(error)\n" }
            }
        }
        if stoppedEarly { out += "\n---\n\n*Stopped at the first failure; the rest of the script did not run (--keep-going runs it all).*\n" }
        return out
    }

    /// One JSON object per entry, keys sorted; timings only when `timings` is on. Picture paths are
    /// written relative to `folder`, where the record will be saved.
    public func jsonl(_ entries: [TranscriptEntry], folder: URL) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = ""
        for var entry in entries {
            // Four decimals: enough to read a decision, and a retrained router that decides the same
            // way rarely changes a golden record.
            if let p = entry.turn?.route?.imageProbability { entry.turn!.route!.imageProbability = (p * 1e4).rounded() / 1e4 }
            if let path = entry.turn?.image?.path { entry.turn!.image!.path = Self.link(to: path, from: folder) }
            if !timings, entry.turn != nil {
                entry.turn!.timings = TurnRecord.Timings(firstToken: nil, image: nil, total: 0)
                entry.turn!.image?.seconds = 0
            }
            out += String(decoding: try encoder.encode(entry), as: UTF8.self) + "\n"
        }
        return out
    }

    // MARK: Formatting

    static func words(_ stop: StopReason) -> String {
        switch stop {
        case .endOfGeneration: "ended its turn"
        case .maxTokens: "reached the token limit"
        case .contextFull: "filled the context"
        case .cancelled: "stopped by the user"
        }
    }

    static func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

    static func trimmed(_ x: Float) -> String {
        x == x.rounded() ? String(Int(x)) : "\(x)"
    }

    /// A multi-line message keeps its lines inside the bold "You:" paragraph.
    static func quoteBlock(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: "  \n")
    }

    static func altText(_ caption: String) -> String {
        caption.replacingOccurrences(of: "[", with: "(").replacingOccurrences(of: "]", with: ")")
            .replacingOccurrences(of: "\n", with: " ")
    }

    /// `path` relative to `folder` when it lies inside it; angle brackets when it has spaces.
    static func link(to path: String, from folder: URL) -> String {
        let target = URL(fileURLWithPath: path).standardizedFileURL.path
        let base = folder.standardizedFileURL.path
        var relative = target
        if target.hasPrefix(base + "/") {
            relative = String(target.dropFirst(base.count + 1))
        } else {
            // Up from the transcript's folder to the common ancestor, then down.
            let a = base.split(separator: "/"), b = target.split(separator: "/")
            let common = zip(a, b).prefix { $0 == $1 }.count
            relative = (Array(repeating: "..", count: a.count - common) + b[common...].map(String.init)).joined(separator: "/")
        }
        return relative.contains(" ") ? "<\(relative)>" : relative
    }
}
