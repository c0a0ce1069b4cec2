import ArgumentParser
import ChatCore
import Foundation

/// `easel run FILE`: plays a scripted conversation through the same engine as `easel chat` and writes
/// a Markdown transcript and a JSONL record of it.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Play a scripted conversation and write its transcript (Markdown and JSONL).",
        discussion: """
        FILE is plain text (one user turn per line; # comments; directives such as /seed 7; a turn over \
        several lines between two lines of \"\"\") or JSONL ({"role":"user","content":"…"} per line). \
        The transcript is OUT/NAME.md and OUT/NAME.jsonl, pictures are OUT/easel-NNNN.png. With a fixed \
        seed, /temperature 0 and --no-timings the output is the same byte for byte on every run. \
        The exit status is 0 only when every line and turn succeeded.
        """)

    @Argument(help: "The script: .txt (or any other extension) or .jsonl.")
    var file: String

    @Option(help: "Folder for the transcript and pictures (default: out/NAME).")
    var out: String?

    @Flag(help: "Go on after a failed turn or a bad line (default: stop there).")
    var keepGoing = false

    @Flag(help: "Leave timings out of the transcript, so that it is reproducible byte for byte.")
    var noTimings = false

    @Flag(help: "Print only the transcript's paths, not each turn.")
    var quiet = false

    @OptionGroup var options: SessionOptions

    func run() throws {
        let script = try ChatScript.load(path: file)
        let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let folder = URL(fileURLWithPath: out ?? "out/\(name)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let loaded = try options.load(outputFolder: folder)
        if !quiet {
            for line in loaded.lines { print("easel: \(line)") }
        }

        var header = "Script `\(URL(fileURLWithPath: file).lastPathComponent)` · \(loaded.session.summary)"
        if !noTimings { header += String(format: " · models loaded in %.2f s", loaded.totalSeconds) }
        let writer = TranscriptWriter(header: header, timings: !noTimings)
        let result = TranscriptRunner(keepGoing: keepGoing).run(script, session: loaded.session, onEntry: { entry in
            guard !quiet else { return }
            print(Self.progressLine(entry))
        })

        let markdown = folder.appendingPathComponent("\(name).md")
        let jsonl = folder.appendingPathComponent("\(name).jsonl")
        try Data(writer.markdown(result.entries, title: "Easel transcript: \(name)", folder: folder,
                                 stoppedEarly: result.stopped).utf8).write(to: markdown)
        try Data(writer.jsonl(result.entries, folder: folder).utf8).write(to: jsonl)
        print("transcript: \(markdown.relativePath)")
        print("record: \(jsonl.relativePath)")
        let failed = result.entries.filter { !$0.succeeded }
        if !failed.isEmpty || result.stopped {
            for entry in failed {
                FileHandle.standardError.write(Data("easel run: \(entry.turn?.error.map { "line \(entry.line ?? 0): \($0)" } ?? entry.result ?? "failed")\n".utf8))
            }
            if result.stopped { FileHandle.standardError.write(Data("easel run: stopped at the first failure (--keep-going runs the rest)\n".utf8)) }
            throw ExitCode(1)
        }
    }

    /// One line per entry while the script plays.
    static func progressLine(_ entry: TranscriptEntry) -> String {
        let at = entry.line.map { "line \($0): " } ?? ""
        switch entry.kind {
        case .directive: return "\(at)\(entry.command ?? "") → \(entry.result ?? "")"
        case .error: return "\(at)error: \(entry.result ?? "")"
        case .turn:
            guard let t = entry.turn else { return at }
            var s = "\(at)\(t.route.map { $0.route.rawValue + ($0.forced ? " (forced)" : String(format: " p=%.2f", $0.probability)) } ?? "-")"
            if let image = t.image {
                s += " → \(image.path) “\(image.caption)” (\(String(format: "%.1f", t.timings.total)) s)"
            } else if t.reply != nil {
                s += " → \(t.replyTokens ?? 0) tokens (\(String(format: "%.1f", t.timings.total)) s)"
            }
            if let error = t.error { s += " error: \(error)" }
            return s
        }
    }
}
