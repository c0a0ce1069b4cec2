import CReadline
import Diffusion
import Foundation

/// Line input for the REPL: GNU readline (editing, history, a history file kept between sessions)
/// when standard input is a terminal, plain `readLine()` when it is a pipe.
final class LineEditor {
    let historyFile: String?
    let interactive: Bool
    static let historyLimit: Int32 = 1000

    /// `historyFile` nil keeps no history file (`--no-history`).
    init(historyFile: String?) {
        self.historyFile = historyFile
        interactive = isatty(STDIN_FILENO) != 0
        guard interactive else { return }
        using_history()
        if let historyFile { read_history(historyFile) }
    }

    /// The next line without its newline, or nil at end of input (Ctrl-D).
    func read(prompt: String) -> String? {
        guard interactive else {
            FileHandle.standardOutput.write(Data(prompt.utf8))
            return readLine(strippingNewline: true)
        }
        guard let raw = readline(prompt) else { return nil }
        defer { free(raw) }
        let line = String(cString: raw)
        if !line.trimmingCharacters(in: .whitespaces).isEmpty {
            add_history(raw)
            if let historyFile {
                // Appending line by line keeps the history even when the REPL is killed.
                if append_history(1, historyFile) != 0 { write_history(historyFile) }
                history_truncate_file(historyFile, Self.historyLimit)
            }
        }
        return line
    }

    /// The default history file: $EASEL_HISTORY, else ~/.easel_history.
    static var defaultHistoryFile: String {
        if let path = ProcessInfo.processInfo.environment["EASEL_HISTORY"], !path.isEmpty { return path }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".easel_history").path
    }
}

/// What the terminal can show: colour (a TTY, TERM not "dumb", NO_COLOR unset) and 24-bit colour.
struct TerminalStyle {
    var colour: Bool
    var trueColour: Bool
    var isTTY: Bool

    static func detect(environment: [String: String] = ProcessInfo.processInfo.environment) -> TerminalStyle {
        let tty = isatty(STDOUT_FILENO) != 0
        let term = environment["TERM"] ?? ""
        let colour = tty && !term.isEmpty && term != "dumb" && environment["NO_COLOR"] == nil
        let colorterm = (environment["COLORTERM"] ?? "").lowercased()
        return TerminalStyle(colour: colour, trueColour: colour && (colorterm == "truecolor" || colorterm == "24bit"), isTTY: tty)
    }

    func dim(_ s: String) -> String { colour ? "\u{1B}[2m\(s)\u{1B}[0m" : s }
    func bold(_ s: String) -> String { colour ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
    func red(_ s: String) -> String { colour ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
    func cyan(_ s: String) -> String { colour ? "\u{1B}[36m\(s)\u{1B}[0m" : s }

    /// A foreground or background colour escape: 24-bit where the terminal says it has it, else the
    /// nearest colour of xterm's 6×6×6 cube.
    func colourEscape(_ r: UInt8, _ g: UInt8, _ b: UInt8, background: Bool) -> String {
        let layer = background ? 48 : 38
        if trueColour { return "\u{1B}[\(layer);2;\(r);\(g);\(b)m" }
        func level(_ v: UInt8) -> Int { v < 48 ? 0 : v < 115 ? 1 : (Int(v) - 35) / 40 }
        return "\u{1B}[\(layer);5;\(16 + 36 * level(r) + 6 * level(g) + level(b))m"
    }
}

/// A picture drawn in the terminal with "▀" half blocks: each character is two pixels, the upper
/// one as the foreground colour and the lower one as the background.
enum ImagePreview {
    /// Box-averages `image` down to at most `maxWidth` columns (and twice as many pixel rows as text rows).
    static func render(_ image: RGBImage, maxWidth: Int = 32, style: TerminalStyle) -> String {
        let scale = max(1, (image.width + maxWidth - 1) / maxWidth)
        let w = max(1, image.width / scale), h = max(1, image.height / scale)
        func pixel(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
            var sum = (0, 0, 0)
            var n = 0
            for yy in (y * scale)..<min(image.height, (y + 1) * scale) {
                for xx in (x * scale)..<min(image.width, (x + 1) * scale) {
                    let p = (yy * image.width + xx) * 3
                    sum.0 += Int(image.pixels[p]); sum.1 += Int(image.pixels[p + 1]); sum.2 += Int(image.pixels[p + 2])
                    n += 1
                }
            }
            n = max(n, 1)
            return (UInt8(sum.0 / n), UInt8(sum.1 / n), UInt8(sum.2 / n))
        }
        var out = ""
        for row in stride(from: 0, to: h, by: 2) {
            for x in 0..<w {
                let top = pixel(x, row)
                out += style.colourEscape(top.0, top.1, top.2, background: false)
                if row + 1 < h {
                    let bottom = pixel(x, row + 1)
                    out += style.colourEscape(bottom.0, bottom.1, bottom.2, background: true)
                }
                out += "▀"
            }
            out += "\u{1B}[0m\n"
        }
        return out
    }
}

/// The one-line progress bar of a picture: steps, elapsed time and ETA, redrawn in place.
enum ReplProgressLine {
    static func line(step: Int, total: Int, elapsed: Double, width: Int = 24) -> String {
        let total = max(total, 1)
        let filled = min(width, width * step / total)
        let eta = step > 0 ? elapsed / Double(step) * Double(total - step) : 0
        return "drawing [" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "] "
            + "\(step)/\(total) steps · " + String(format: "%.1f s · ETA %.1f s", elapsed, eta)
    }
}
