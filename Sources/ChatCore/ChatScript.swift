import Foundation

/// A scripted conversation for `easel run`, in one of two formats.
///
/// **Plain text** (any extension but `.jsonl`):
///
///     # A comment: lines starting with # are skipped, and so are blank lines.
///     /seed 7                      a directive: any settings command (/seed /steps /guidance /size
///                                  /scheduler /temperature /max-tokens /system /reset)
///     Hello! Who are you?          one user turn per line
///     /image a red circle          a turn with a forced route (/image, /chat)
///     """                          a block: the lines up to the closing """ are one turn, newlines kept
///     Summarise this:
///     the quick brown fox
///     """
///
/// **JSONL** (`.jsonl`): one JSON object per line, `{"role": "user", "content": "…"}`; a user content
/// starting with "/" is a directive or forced turn as above; `{"role": "system", "content": "…"}` sets
/// the system prompt. Blank lines and `#` lines are skipped.
///
/// A line that cannot be understood becomes a `.bad` item with its line number, so a run reports it
/// where it stands in the conversation.
public struct ChatScript: Sendable, Equatable {
    public enum Format: String, Sendable { case text, jsonl }

    public struct Item: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case turn(String)
            case directive(SessionCommand, text: String)
            case bad(String)
        }
        /// 1-based line in the script (the opening line for a block).
        public var line: Int
        public var kind: Kind
    }

    public var path: String
    public var items: [Item]

    /// Scripts larger than this are refused: a conversation is typed, not generated.
    public static let maxBytes = 16 << 20

    public static func load(path: String) throws -> ChatScript {
        let url = URL(fileURLWithPath: path)
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = attributes?[.size] as? Int else {
            throw ChatError.badScript(path: path, line: 0, reason: "cannot read the file")
        }
        guard size <= maxBytes else {
            throw ChatError.badScript(path: path, line: 0, reason: "\(size) bytes is more than the \(maxBytes) a script may have")
        }
        let data = try Data(contentsOf: url)
        guard let text = String(data: data, encoding: .utf8) else {
            throw ChatError.badScript(path: path, line: 0, reason: "not UTF-8 text")
        }
        return parse(text, path: path, format: url.pathExtension.lowercased() == "jsonl" ? .jsonl : .text)
    }

    public static func parse(_ text: String, path: String = "<script>", format: Format) -> ChatScript {
        // By scalars, not Characters: "\r\n" is one Character and would not split on "\n".
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            String(String.UnicodeScalarView(line.last == "\r" ? line.dropLast() : line))
        }
        var items: [Item] = []
        switch format {
        case .text:
            var i = 0
            while i < lines.count {
                let number = i + 1
                let line = lines[i].trimmingCharacters(in: .whitespaces)
                i += 1
                if line.isEmpty || line.hasPrefix("#") { continue }
                if line == "\"\"\"" {
                    var block: [String] = []
                    var closed = false
                    while i < lines.count {
                        let inner = lines[i]
                        i += 1
                        if inner.trimmingCharacters(in: .whitespaces) == "\"\"\"" { closed = true; break }
                        block.append(inner)
                    }
                    guard closed else {
                        items.append(Item(line: number, kind: .bad("the block opened here has no closing \"\"\"")))
                        continue
                    }
                    let turn = block.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
                    items.append(Item(line: number, kind: turn.isEmpty ? .bad("empty block") : .turn(turn)))
                    continue
                }
                items.append(Item(line: number, kind: classify(line)))
            }
        case .jsonl:
            for (index, raw) in lines.enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") { continue }
                items.append(Item(line: index + 1, kind: jsonItem(line)))
            }
        }
        return ChatScript(path: path, items: items)
    }

    /// A turn, a directive, or what is wrong with it.
    static func classify(_ line: String) -> Item.Kind {
        do {
            switch try SessionCommand.parse(line) {
            case nil: return .turn(line)
            case .image?, .chat?: return .turn(line)
            case let command? where command.isDirective: return .directive(command, text: line)
            case _?: return .bad("\(line.split(separator: " ").first ?? "") is a REPL command; a script cannot use it")
            }
        } catch {
            return .bad("\(error)")
        }
    }

    static func jsonItem(_ line: String) -> Item.Kind {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            return .bad("not a JSON object")
        }
        guard let role = object["role"] as? String else { return .bad("no \"role\" string") }
        guard let content = object["content"] as? String else { return .bad("no \"content\" string") }
        switch role {
        case "user":
            let text = content.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { return .bad("empty content") }
            return text.contains("\n") ? .turn(text) : classify(text)
        case "system":
            return .directive(.system(content.isEmpty ? nil : content), text: "/system \(content)")
        default:
            return .bad("role \"\(role)\" is not \"user\" or \"system\" (a script holds only what the user says)")
        }
    }
}
