import Foundation

/// One labelled user turn of the router corpus.
public struct LabelledTurn: Sendable, Equatable {
    public var route: Route
    /// What the turn is an example of, e.g. `image-followup` or `chat-hard-negative`; starts with the route.
    public var category: String
    /// The route of the turn before, or nil for a first turn (written `-`).
    public var previous: Route?
    public var text: String
    /// Where the line came from, `file:line`, for error messages and the evaluation's listing.
    public var source: String

    public init(route: Route, category: String, previous: Route?, text: String, source: String = "") {
        self.route = route
        self.category = category
        self.previous = previous
        self.text = text
        self.source = source
    }
}

/// The corpus format (router-corpus/README.md): UTF-8 text, one turn per line, four tab-separated fields
///
///     label <TAB> category <TAB> previous <TAB> text
///
/// label is `image` or `chat`; category is lower-case letters, digits and `-`, and begins with
/// the label and a `-`; previous is `-`, `image` or `chat`; text is non-empty. Blank lines and lines
/// starting with `#` are ignored.
public enum RouterCorpus {
    /// Parses one file's text. `file` names it in errors.
    public static func parse(_ contents: String, file: String) throws -> [LabelledTurn] {
        var turns: [LabelledTurn] = []
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so both line ends are matched explicitly.
        for line in contents.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) || line.hasPrefix("#") { continue }
            func fail(_ reason: String) -> RouterError {
                .malformedLine(file: file, line: lineNumber, reason: reason)
            }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 4 else {
                throw fail("expected 4 tab-separated fields (label, category, previous, text), found \(fields.count)")
            }
            guard let route = Route(rawValue: String(fields[0])) else {
                throw fail("label '\(fields[0])' is not 'image' or 'chat'")
            }
            let category = String(fields[1])
            guard category.hasPrefix(route.rawValue + "-"), category.count > route.rawValue.count + 1,
                  category.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
            else {
                throw fail("category '\(category)' must be lower-case letters, digits and '-', starting with '\(route.rawValue)-'")
            }
            let previous: Route?
            switch fields[2] {
            case "-": previous = nil
            case "image": previous = .image
            case "chat": previous = .chat
            default: throw fail("previous route '\(fields[2])' is not '-', 'image' or 'chat'")
            }
            let text = String(fields[3])
            guard !text.allSatisfy(\.isWhitespace) else { throw fail("text is empty") }
            turns.append(LabelledTurn(route: route, category: category, previous: previous, text: text,
                                      source: "\(file):\(lineNumber)"))
        }
        return turns
    }

    /// Loads one `.tsv` file, or every `.tsv` file of a folder in name order.
    public static func load(from path: String) throws -> [LabelledTurn] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RouterError.cannotRead(path: path, reason: "no such file or folder")
        }
        let files: [String]
        if isDirectory.boolValue {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
                throw RouterError.cannotRead(path: path, reason: "\(error)")
            }
            files = names.filter { $0.hasSuffix(".tsv") }.sorted().map { (path as NSString).appendingPathComponent($0) }
            guard !files.isEmpty else { throw RouterError.emptyCorpus(path: path, reason: "the folder has no .tsv files") }
        } else {
            files = [path]
        }
        var turns: [LabelledTurn] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw RouterError.cannotRead(path: file, reason: "the file cannot be opened")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw RouterError.cannotRead(path: file, reason: "the file is not UTF-8")
            }
            turns += try parse(text, file: file)
        }
        guard !turns.isEmpty else { throw RouterError.emptyCorpus(path: path, reason: "no labelled lines") }
        return turns
    }
}
