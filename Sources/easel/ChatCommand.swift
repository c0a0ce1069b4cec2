import ArgumentParser
import ChatCore
import Diffusion
import Dispatch
import Foundation
import LLM
import Router

/// `easel chat`: the REPL. Every turn goes through `ChatSession`; this file only reads lines and
/// renders the session's events.
struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Talk and draw: each turn is routed to a streamed text reply or a picture (/help lists the commands).",
        discussion: "Ctrl-C stops the current reply or picture; Ctrl-D or /quit leaves. Line editing and history come from readline; the history file is ~/.easel_history ($EASEL_HISTORY).")

    @Option(help: "Folder for the pictures.") var out: String = "out"
    @Flag(help: "Do not show a colour preview of each picture in the terminal.") var noPreview = false
    @Flag(help: "Keep no history file.") var noHistory = false
    @OptionGroup var options: SessionOptions

    func run() throws {
        let style = TerminalStyle.detect()
        print(style.dim("easel: loading…"))
        let loaded = try options.load(outputFolder: URL(fileURLWithPath: out))
        for line in loaded.lines { print(style.dim("easel: \(line)")) }
        print(style.dim(String(format: "easel: ready in %.2f s. Type a message; /help lists the commands, Ctrl-D leaves.", loaded.totalSeconds)))
        let repl = Repl(session: loaded.session, style: style, preview: !noPreview && style.colour,
                        editor: LineEditor(historyFile: noHistory ? nil : LineEditor.defaultHistoryFile),
                        header: loaded.session.summary)
        repl.loop()
    }
}

/// The read–route–render loop. Turns run on the main thread; Ctrl-C arrives on a dispatch queue and
/// only sets the current turn's cancellation flag, which the engine checks between tokens and steps.
final class Repl {
    let session: ChatSession
    let style: TerminalStyle
    let preview: Bool
    let editor: LineEditor
    let header: String
    var entries: [TranscriptEntry] = []

    private let lock = NSLock()
    private var current: CancellationFlag?
    private var interrupt: DispatchSourceSignal?
    /// Whether the last thing printed ended a line (so a progress bar or error starts on a new one).
    private var atLineStart = true

    init(session: ChatSession, style: TerminalStyle, preview: Bool, editor: LineEditor, header: String) {
        self.session = session
        self.style = style
        self.preview = preview
        self.editor = editor
        self.header = header
    }

    func loop() {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [weak self] in self?.interrupted() }
        source.resume()
        interrupt = source
        defer { source.cancel() }

        while let line = editor.read(prompt: "> ") {
            let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { continue }
            do {
                if let command = try SessionCommand.parse(text) {
                    switch command {
                    case .quit: return
                    case .help: help()
                    case .route: routeReport()
                    case .save(let path): save(to: path)
                    case .image, .chat: turn(text)
                    default:
                        let result = try session.apply(command)
                        entries.append(.directive(text, result: result))
                        print(style.dim("· \(result)"))
                    }
                    continue
                }
            } catch {
                print(style.red("error: \(error)"))
                continue
            }
            turn(text)
        }
        emit("\n")
    }

    private func interrupted() {
        lock.withLock {
            if let current { current.cancel() }
        }
    }

    private func write(_ s: String) {
        emit(s)
        if let last = s.last { atLineStart = last == "\n" }
    }

    private func newLine() {
        if !atLineStart { write("\n") }
    }

    func turn(_ text: String) {
        let flag = CancellationFlag()
        lock.withLock { current = flag }
        defer { lock.withLock { current = nil } }
        var drawing = false
        let record = session.send(text, cancellation: flag) { event in
            switch event {
            case .routed(let r):
                let how = r.forced ? "forced" : String(format: "p %.2f", r.probability)
                write(style.dim("· \(r.route.rawValue) (\(how))") + "\n")
            case .token(let piece):
                write(piece)
            case .caption(let c):
                let note = c.kind == .new ? "" : c.kind == .edit ? " (edited)" : " (new seed)"
                write(style.dim("· drawing “\(c.text)”\(note), seed \(session.settings.seed)") + "\n")
            case .imageProgress(let step, let total, let elapsed):
                guard style.isTTY else { break }
                drawing = true
                emit("\r\u{1B}[2K" + ReplProgressLine.line(step: step, total: total, elapsed: elapsed))
                atLineStart = false
            case .imageSaved(let image):
                if drawing { emit("\r\u{1B}[2K"); atLineStart = true; drawing = false }
                write(style.cyan(image.path) + style.dim(String(format: "  (%dx%d, %.1f s)", image.width, image.height, image.seconds)) + "\n")
                if preview, let picture = try? PNGCodec.decode(contentsOf: URL(fileURLWithPath: image.path)) {
                    write(ImagePreview.render(picture, style: style))
                }
            case .error(let message):
                if drawing { emit("\r\u{1B}[2K"); atLineStart = true; drawing = false }
                newLine()
                write(style.red("error: \(message)") + "\n")
            case .finished(let r):
                if drawing { emit("\r\u{1B}[2K"); atLineStart = true; drawing = false }
                if r.outcome == .cancelled {
                    newLine()
                    write(style.dim(r.image == nil && r.route?.route == .image ? "· picture stopped" : "· stopped") + "\n")
                }
                newLine()
            }
        }
        entries.append(.turn(record))
    }

    func help() {
        print("Type a message: the router sends it to the chat model or the drawing model.")
        for (command, meaning) in SessionCommand.helpLines {
            print("  " + command.padding(toLength: 18, withPad: " ", startingAt: 0) + meaning)
        }
        print("Ctrl-C stops a reply or a picture; Ctrl-D leaves.")
    }

    func routeReport() {
        guard let d = session.lastDecision else {
            print(style.dim("· no turn has been routed yet (forced turns skip the router)"))
            return
        }
        let last = session.turns.last { $0.route?.forced == false }
        if let user = last?.user { print("last routed turn: \(user)") }
        print(String(format: "%@  p=%.3f  (P(image)=%.3f, threshold %.2f)", d.route.rawValue, d.probability, d.imageProbability,
                     session.router.imageThreshold))
        print(String(format: "  prior log-odds %+.2f, %@ %+.2f, total %+.2f", d.priorLogOdds, d.context.feature, d.context.weight, d.logOdds))
        for (title, features) in [("toward image", d.towardImage), ("toward chat", d.towardChat)] {
            let list = features.map { String(format: "%@ %+.2f", $0.feature, $0.weight) }.joined(separator: ", ")
            print("  \(title): \(list.isEmpty ? "(none)" : list)")
        }
    }

    func save(to path: String) {
        let url = URL(fileURLWithPath: path)
        do {
            let writer = TranscriptWriter(header: header)
            let text = url.pathExtension.lowercased() == "jsonl"
                ? try writer.jsonl(entries, folder: url.deletingLastPathComponent())
                : writer.markdown(entries, title: "Easel conversation", folder: url.deletingLastPathComponent())
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
            print(style.dim("· saved \(entries.count) entries to \(path)"))
        } catch {
            print(style.red("error: cannot save \(path): \(error.localizedDescription)"))
        }
    }
}
