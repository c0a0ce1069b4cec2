// Port of OpenAI CLIP's byte-level BPE tokenizer as transformers 5.24.0's CLIPTokenizer (tokenizers backend)
// runs it: NFC, whitespace runs → one space, lower case; CLIP's pre-tokenizer pattern; bytes mapped to
// GPT-2's printable characters; BPE with "</w>" marking word ends; <|startoftext|> … <|endoftext|>.
import Foundation

public enum CLIPTokenizerError: Error, CustomStringConvertible, Equatable {
    case badFile(path: String, reason: String)

    public var description: String {
        switch self { case .badFile(let p, let r): "CLIP tokenizer file \(p): \(r)" }
    }
}

public struct CLIPTokenizer: Sendable {
    let vocabulary: [String: Int]
    let mergeRanks: [String: Int]   // "a b" → rank
    public let bosToken: Int
    public let eosToken: Int
    public let padToken: Int
    /// Sequence length the pipeline pads and truncates to (`model_max_length`, 77 for SD v1).
    public let maxLength: Int
    static let byteToUnicode: [Character] = makeByteToUnicode()

    /// Loads vocab.json and merges.txt (SD v1.4's files) or, when they are absent, tokenizer.json's BPE model
    /// (what transformers 5 saves), and tokenizer_config.json / special_tokens_map.json when present, for the
    /// padding token and model_max_length. SD v1.4 pads with <|endoftext|>; SD 2.x with "!".
    public init(directory: URL) throws {
        let vocabURL = directory.appendingPathComponent("vocab.json")
        let tokenizerJSON = directory.appendingPathComponent("tokenizer.json")
        let vocab: [String: Int]
        var merges: [(String, String)] = []
        if !FileManager.default.fileExists(atPath: vocabURL.path), FileManager.default.fileExists(atPath: tokenizerJSON.path) {
            (vocab, merges) = try Self.readTokenizerJSON(tokenizerJSON)
        } else {
            do {
                vocab = try JSONDecoder().decode([String: Int].self, from: Data(contentsOf: vocabURL))
            } catch {
                throw CLIPTokenizerError.badFile(path: vocabURL.path, reason: "not a JSON object of token ids (\(error.localizedDescription))")
            }
            let mergesURL = directory.appendingPathComponent("merges.txt")
            guard let text = try? String(contentsOf: mergesURL, encoding: .utf8) else {
                throw CLIPTokenizerError.badFile(path: mergesURL.path, reason: "cannot read as UTF-8 text")
            }
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if line.hasPrefix("#version") || line.isEmpty { continue }
                let parts = line.split(separator: " ")
                guard parts.count == 2 else {
                    throw CLIPTokenizerError.badFile(path: mergesURL.path, reason: "line \(n + 1) is not a pair: \(line.prefix(60))")
                }
                merges.append((String(parts[0]), String(parts[1])))
            }
        }
        var config: [String: Any] = [:]
        for name in ["special_tokens_map.json", "tokenizer_config.json"] {
            let url = directory.appendingPathComponent(name)
            guard let data = try? Data(contentsOf: url) else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw CLIPTokenizerError.badFile(path: url.path, reason: "not a JSON object")
            }
            config.merge(object) { _, new in new }
        }
        func tokenName(_ key: String, _ fallback: String) -> String {
            if let s = config[key] as? String { return s }
            if let d = config[key] as? [String: Any], let s = d["content"] as? String { return s }
            return fallback
        }
        let maxLength = (config["model_max_length"] as? Int).map { $0 > 0 && $0 <= 100_000 ? $0 : 77 } ?? 77
        try self.init(vocabulary: vocab, merges: merges, bos: tokenName("bos_token", "<|startoftext|>"),
                      eos: tokenName("eos_token", "<|endoftext|>"), pad: tokenName("pad_token", "<|endoftext|>"),
                      maxLength: maxLength, source: directory.path)
    }

    /// tokenizer.json's `model`: a BPE with `vocab` {token: id} and `merges` as ["a b", …] or [["a", "b"], …].
    static func readTokenizerJSON(_ url: URL) throws -> ([String: Int], [(String, String)]) {
        guard let data = try? Data(contentsOf: url),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let model = root["model"] as? [String: Any] else {
            throw CLIPTokenizerError.badFile(path: url.path, reason: "not a tokenizers JSON file with a model")
        }
        guard (model["type"] as? String ?? "BPE") == "BPE", let rawVocab = model["vocab"] as? [String: Any],
              let rawMerges = model["merges"] as? [Any] else {
            throw CLIPTokenizerError.badFile(path: url.path, reason: "model is not a BPE with vocab and merges")
        }
        var vocab: [String: Int] = [:]
        for (token, id) in rawVocab {
            guard let i = id as? Int else { throw CLIPTokenizerError.badFile(path: url.path, reason: "vocab id of '\(token)' is not an integer") }
            vocab[token] = i
        }
        let merges: [(String, String)] = try rawMerges.enumerated().map { n, m in
            if let pair = m as? [String], pair.count == 2 { return (pair[0], pair[1]) }
            if let text = m as? String {
                let parts = text.split(separator: " ")
                if parts.count == 2 { return (String(parts[0]), String(parts[1])) }
            }
            throw CLIPTokenizerError.badFile(path: url.path, reason: "merge \(n) is not a pair")
        }
        return (vocab, merges)
    }

    init(vocabulary: [String: Int], merges: [(String, String)], bos: String, eos: String, pad: String,
         maxLength: Int, source: String) throws {
        func id(_ token: String) throws -> Int {
            guard let i = vocabulary[token] else {
                throw CLIPTokenizerError.badFile(path: source, reason: "special token '\(token)' is not in vocab.json")
            }
            return i
        }
        self.vocabulary = vocabulary
        var ranks: [String: Int] = [:]
        for (i, m) in merges.enumerated() where ranks["\(m.0) \(m.1)"] == nil { ranks["\(m.0) \(m.1)"] = i }
        mergeRanks = ranks
        bosToken = try id(bos)
        eosToken = try id(eos)
        padToken = try id(pad)
        self.maxLength = maxLength
        guard maxLength >= 2 else { throw CLIPTokenizerError.badFile(path: source, reason: "model_max_length \(maxLength) < 2") }
    }

    /// Token ids of `text` without start/end tokens. The special tokens are matched in the raw text first,
    /// exactly and case-sensitively, as the tokenizers backend matches added tokens; everything between them
    /// is normalized and split.
    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            let next = ["<|startoftext|>", "<|endoftext|>"].compactMap { t in rest.range(of: t).map { (t, $0) } }
                .min { $0.1.lowerBound < $1.1.lowerBound }
            let segment = next.map { rest[..<$0.1.lowerBound] } ?? rest
            encodeSegment(String(segment), into: &ids)
            guard let (token, range) = next else { break }
            if let special = vocabulary[token] { ids.append(special) } else { encodeSegment(token, into: &ids) }
            rest = rest[range.upperBound...]
        }
        return ids
    }

    func encodeSegment(_ text: String, into ids: inout [Int]) {
        for piece in CLIPTokenizer.preTokenize(CLIPTokenizer.normalize(text)) {
            let symbols = Array(piece.utf8).map { CLIPTokenizer.byteToUnicode[Int($0)] }
            var word = symbols.map { String($0) }
            word[word.count - 1] += "</w>"
            // A symbol missing from a truncated vocabulary becomes the unknown token, <|endoftext|> in CLIP.
            for token in bpe(word) { ids.append(vocabulary[token] ?? eosToken) }
        }
    }

    /// What SD pipelines feed the text encoder: <|startoftext|>, at most maxLength − 2 tokens,
    /// <|endoftext|>, then padding to exactly `maxLength` (`padding="max_length", truncation=True`).
    public func encodePadded(_ text: String) -> [Int] {
        let body = encode(text).prefix(maxLength - 2)
        let ids = [bosToken] + body + [eosToken]
        return ids + [Int](repeating: padToken, count: maxLength - ids.count)
    }

    /// Lowest-rank merge first, leftmost on ties, until no adjacent pair is a merge.
    func bpe(_ start: [String]) -> [String] {
        var word = start
        while word.count > 1 {
            var best = Int.max, at = -1
            for i in 0..<(word.count - 1) {
                if let r = mergeRanks[word[i] + " " + word[i + 1]], r < best { best = r; at = i }
            }
            if at < 0 { break }
            let (a, b) = (word[at], word[at + 1])
            var merged: [String] = []
            merged.reserveCapacity(word.count)
            var i = 0
            while i < word.count {
                if i + 1 < word.count && word[i] == a && word[i + 1] == b { merged.append(a + b); i += 2 }
                else { merged.append(word[i]); i += 1 }
            }
            word = merged
        }
        return word
    }

    /// NFC, every run of Unicode white space → " ", then lower case (the tokenizers normalizer sequence).
    static func normalize(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var inSpace = false
        for s in text.precomposedStringWithCanonicalMapping.unicodeScalars {
            if s.properties.isWhitespace {
                if !inSpace { out.append(" ") }
                inSpace = true
            } else {
                out.append(s)
                inSpace = false
            }
        }
        return String(out).lowercased()
    }

    /// CLIP's pattern `'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`, scanned by hand over Unicode
    /// scalars; text between matches (white space) is dropped. The pattern's leading special-token
    /// alternatives are left out: a special token reaching this point is lower-cased text, and the byte-level
    /// step's GPT-2 split that follows in tokenizers cuts it into "<|", letters, "|>", which this yields directly.
    static func preTokenize(_ text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        func isLetter(_ c: Unicode.Scalar) -> Bool {
            switch c.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
            default: false
            }
        }
        func isNumber(_ c: Unicode.Scalar) -> Bool {
            switch c.properties.generalCategory {
            case .decimalNumber, .letterNumber, .otherNumber: true
            default: false
            }
        }
        func matches(_ literal: String, at i: Int) -> Bool {
            let l = Array(literal.unicodeScalars)
            return i + l.count <= s.count && Array(s[i..<(i + l.count)]) == l
        }
        var pieces: [String] = []
        var i = 0
        func take(_ n: Int) { pieces.append(String(String.UnicodeScalarView(s[i..<(i + n)]))); i += n }
        while i < s.count {
            let c = s[i]
            if c == "'", let suffix = ["s", "t", "re", "ve", "m", "ll", "d"].first(where: { matches("'" + $0, at: i) }) {
                take(1 + suffix.unicodeScalars.count)
            } else if isLetter(c) {
                var j = i
                while j < s.count && isLetter(s[j]) { j += 1 }
                take(j - i)
            } else if isNumber(c) {
                take(1)
            } else if c.properties.isWhitespace {
                i += 1
            } else {
                var j = i
                while j < s.count && !isLetter(s[j]) && !isNumber(s[j]) && !s[j].properties.isWhitespace { j += 1 }
                take(j - i)
            }
        }
        return pieces
    }

    /// GPT-2's byte → printable character table: printable Latin-1 bytes map to themselves, the other 68
    /// bytes to U+0100 onwards, in byte order.
    static func makeByteToUnicode() -> [Character] {
        var printable = Set<Int>()
        for r in [33...126, 161...172, 174...255] { printable.formUnion(r) }
        var table = [Character](repeating: " ", count: 256)
        var next = 256
        for b in 0..<256 {
            if printable.contains(b) { table[b] = Character(Unicode.Scalar(UInt32(b))!) }
            else { table[b] = Character(Unicode.Scalar(UInt32(next))!); next += 1 }
        }
        return table
    }
}
