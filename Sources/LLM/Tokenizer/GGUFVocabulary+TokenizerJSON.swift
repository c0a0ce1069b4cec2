// Hugging Face `tokenizer.json` (+ `tokenizer_config.json`) → the same vocabulary value a GGUF holds, for HF
// model folders. Covers the two BPE layouts Easel's tokenizers implement:
//   byte-level BPE (GPT-2, SmolLM2, Llama 3): model "gpt2", the split told apart by the pre_tokenizer;
//   SentencePiece-style BPE (Llama 2: byte_fallback with a "▁" Prepend/Replace normalizer or Metaspace): model
//   "llama", scores derived from the merge ranks.
import Foundation

extension GGUFVocabulary {
    /// Reads `tokenizer.json` and, when present, `tokenizer_config.json` from an HF model folder.
    public init(huggingFaceFolder folder: URL) throws {
        let json = folder.appendingPathComponent("tokenizer.json")
        guard let data = FileManager.default.contents(atPath: json.path) else {
            throw TokenizerError.missingField("\(json.path) (cannot read tokenizer.json)")
        }
        let config = FileManager.default.contents(atPath: folder.appendingPathComponent("tokenizer_config.json").path)
        try self.init(tokenizerJSON: data, tokenizerConfig: config)
    }

    /// - Parameters:
    ///   - tokenizerJSON: contents of `tokenizer.json`.
    ///   - tokenizerConfig: contents of `tokenizer_config.json`: BOS/EOS/UNK names, add_bos/add_eos, chat template.
    public init(tokenizerJSON: Data, tokenizerConfig: Data? = nil) throws {
        let root = try HFJSON.object(try HFJSON.parse(tokenizerJSON, "tokenizer.json"), "tokenizer.json")
        let config = try tokenizerConfig.map { try HFJSON.object(try HFJSON.parse($0, "tokenizer_config.json"), "tokenizer_config.json") } ?? [:]
        let model = try HFJSON.object(root["model"], "tokenizer.json model")
        let type = model["type"] as? String ?? "(none)"
        guard type == "BPE" else { throw TokenizerError.unsupportedModel("tokenizer.json model type \(type)") }

        // Tokens by id: the model's vocab, then added tokens (which may lie past it).
        let vocab = try HFJSON.object(model["vocab"], "tokenizer.json model.vocab")
        var byID: [Int: String] = [:]
        for (text, value) in vocab {
            guard let id = HFJSON.int(value), id >= 0 else {
                throw TokenizerError.invalidField(field: "model.vocab", reason: "token '\(text)' has id \(value), not a non-negative integer")
            }
            byID[id] = text
        }
        var special: Set<Int> = [], userDefined: Set<Int> = []
        for (i, entry) in try HFJSON.array(root["added_tokens"] ?? [Any](), "tokenizer.json added_tokens").enumerated() {
            let added = try HFJSON.object(entry, "added_tokens[\(i)]")
            guard let id = HFJSON.int(added["id"] as Any), id >= 0, let content = added["content"] as? String else {
                throw TokenizerError.invalidField(field: "added_tokens[\(i)]", reason: "needs an integer id and a string content")
            }
            byID[id] = content
            if added["special"] as? Bool ?? false { special.insert(id) } else { userDefined.insert(id) }
        }
        let count = (byID.keys.max() ?? -1) + 1
        guard count > 0 else { throw TokenizerError.emptyVocabulary }
        // A gap means an id nothing names, or two keys Swift takes as one (canonically equivalent strings).
        guard byID.count == count else {
            let missing = (0..<count).first { byID[$0] == nil }!
            throw TokenizerError.invalidField(field: "model.vocab", reason: "ids run to \(count - 1) but id \(missing) has no token")
        }
        let tokens = (0..<count).map { byID[$0]! }

        var merges: [String] = []
        for (i, m) in try HFJSON.array(model["merges"] ?? [Any](), "tokenizer.json model.merges").enumerated() {
            if let s = m as? String {
                merges.append(s)
            } else if let pair = m as? [Any], pair.count == 2, let a = pair[0] as? String, let b = pair[1] as? String {
                merges.append(a + " " + b)
            } else {
                throw TokenizerError.invalidField(field: "model.merges", reason: "merge \(i) is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }

        // Special-token names: tokenizer_config.json first, then what tokenizer.json itself says.
        let ids = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        func named(_ key: String) -> Int? {
            let value = config[key]
            let name = (value as? String) ?? ((value as? [String: Any])?["content"] as? String)
            return name.flatMap { ids[$0] }
        }
        let unknown = named("unk_token") ?? (model["unk_token"] as? String).flatMap { ids[$0] }
        let templateBOS = HFJSON.leadingSpecialToken(root["post_processor"]).flatMap { ids[$0] }

        let byteFallback = model["byte_fallback"] as? Bool ?? false
        var types = [Int32](repeating: TokenType.normal.rawValue, count: count)
        for id in special { types[id] = TokenType.control.rawValue }
        for id in userDefined { types[id] = TokenType.userDefined.rawValue }
        if let unknown { types[unknown] = TokenType.unknown.rawValue }

        var modelName = "gpt2", pre: String?, scores: [Float]?, addSpacePrefix: Bool?
        if byteFallback {
            modelName = "llama"
            for (id, t) in tokens.enumerated() where types[id] == TokenType.normal.rawValue && HFJSON.isByteToken(t) {
                types[id] = TokenType.byte.rawValue
            }
            scores = HFJSON.scoresFromMergeRanks(tokens: tokens, merges: merges)
            addSpacePrefix = try HFJSON.prependsSpaceMarker(normalizer: root["normalizer"], preTokenizer: root["pre_tokenizer"])
        } else {
            pre = try HFJSON.preTokenizerName(root["pre_tokenizer"])
        }

        let chatTemplate: String?
        if let s = config["chat_template"] as? String {
            chatTemplate = s
        } else if let list = config["chat_template"] as? [[String: Any]] {
            chatTemplate = (list.first { $0["name"] as? String == "default" } ?? list.first)?["template"] as? String
        } else {
            chatTemplate = nil
        }

        self.init(model: modelName, preTokenizer: pre, tokens: tokens, scores: scores, tokenTypes: types,
                  merges: byteFallback ? nil : merges,
                  bosID: named("bos_token") ?? templateBOS,
                  eosID: named("eos_token"),
                  unknownID: unknown,
                  paddingID: named("pad_token"),
                  addBOS: config["add_bos_token"] as? Bool ?? (templateBOS != nil ? true : nil),
                  addEOS: config["add_eos_token"] as? Bool,
                  addSpacePrefix: addSpacePrefix,
                  chatTemplate: chatTemplate)
    }
}

/// Helpers for the loosely typed JSON of tokenizer.json.
enum HFJSON {
    static let llama3Split = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    static func parse(_ data: Data, _ what: String) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw TokenizerError.invalidField(field: what, reason: "not valid JSON (\(error.localizedDescription))")
        }
    }

    static func object(_ value: Any?, _ what: String) throws -> [String: Any] {
        guard let o = value as? [String: Any] else { throw TokenizerError.invalidField(field: what, reason: "expected a JSON object") }
        return o
    }

    static func array(_ value: Any?, _ what: String) throws -> [Any] {
        guard let a = value as? [Any] else { throw TokenizerError.invalidField(field: what, reason: "expected a JSON array") }
        return a
    }

    /// An integral JSON number. JSONSerialization gives NSNumber for numbers and booleans alike; a boolean
    /// (Objective-C type "c") must not pass as id 1, nor 1.5 as 1.
    static func int(_ value: Any) -> Int? {
        guard let n = value as? NSNumber, String(cString: n.objCType) != "c" else { return nil }
        return value as? Int
    }

    static func isByteToken(_ t: String) -> Bool {
        let b = Array(t.utf8)
        return b.count == 6 && b[0] == UInt8(ascii: "<") && b[1] == UInt8(ascii: "0") && b[2] == UInt8(ascii: "x")
            && b[5] == UInt8(ascii: ">") && b[3...4].allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 70) || ($0 >= 97 && $0 <= 102) }
    }

    /// The first special token of a TemplateProcessing post-processor's "single" template: the BOS it adds.
    static func leadingSpecialToken(_ value: Any?) -> String? {
        guard let p = value as? [String: Any] else { return nil }
        if p["type"] as? String == "Sequence", let list = p["processors"] as? [Any] {
            return list.lazy.compactMap { leadingSpecialToken($0) }.first
        }
        guard p["type"] as? String == "TemplateProcessing", let single = p["single"] as? [Any],
              let first = single.first as? [String: Any], let st = first["SpecialToken"] as? [String: Any] else { return nil }
        return st["id"] as? String
    }

    /// SentencePiece merges by score, HF BPE by merge rank. Scoring each token by the rank of the first
    /// merge that makes it (earlier merge = higher score) makes the score-driven merge pick the same pairs
    /// HF's rank-driven merge picks. Tokens no merge makes score below every merge.
    static func scoresFromMergeRanks(tokens: [String], merges: [String]) -> [Float] {
        var rankOf: [[UInt8]: Int] = [:]
        for (rank, m) in merges.enumerated() {
            let b = Array(m.utf8)
            guard b.count > 1, let space = b[1...].firstIndex(of: UInt8(ascii: " ")) else { continue }
            let joined = Array(b[..<space]) + Array(b[(space + 1)...])
            if rankOf[joined] == nil { rankOf[joined] = rank }
        }
        return tokens.map { t in -Float(rankOf[Array(t.utf8)] ?? merges.count) }
    }

    /// Whether text gets a leading "▁" before merging: a `Prepend("▁")` normalizer (Llama-2 tokenizer.json),
    /// or a Metaspace pre-tokenizer that prepends (newer exports). Other layouts are refused.
    static func prependsSpaceMarker(normalizer: Any?, preTokenizer: Any?) throws -> Bool {
        func flatten(_ v: Any?, _ listKey: String) -> [[String: Any]] {
            guard let o = v as? [String: Any] else { return [] }
            if o["type"] as? String == "Sequence", let list = o[listKey] as? [Any] { return list.flatMap { flatten($0, listKey) } }
            return [o]
        }
        let norms = flatten(normalizer, "normalizers"), pres = flatten(preTokenizer, "pretokenizers")
        if norms.contains(where: { $0["type"] as? String == "Replace" && (($0["pattern"] as? [String: Any])?["String"] as? String) == " " && $0["content"] as? String == "▁" }) {
            return norms.contains { $0["type"] as? String == "Prepend" && $0["prepend"] as? String == "▁" }
        }
        if let meta = pres.first(where: { $0["type"] as? String == "Metaspace" }) {
            if let scheme = meta["prepend_scheme"] as? String { return scheme != "never" }
            return meta["add_prefix_space"] as? Bool ?? true
        }
        throw TokenizerError.unsupportedPreTokenizer("SentencePiece-style tokenizer.json without a ▁ Replace normalizer or Metaspace pre-tokenizer")
    }

    /// The llama.cpp pre-tokenizer name for a byte-level tokenizer.json's pre_tokenizer.
    static func preTokenizerName(_ value: Any?) throws -> String {
        guard let p = value as? [String: Any] else { throw TokenizerError.unsupportedPreTokenizer("tokenizer.json without a pre_tokenizer") }
        let parts: [[String: Any]] = p["type"] as? String == "Sequence" ? (p["pretokenizers"] as? [Any] ?? []).compactMap { $0 as? [String: Any] } : [p]
        let kinds = parts.map { $0["type"] as? String ?? "?" }
        func byteLevel(regex: Bool) -> Bool {
            guard let b = parts.last, b["type"] as? String == "ByteLevel" else { return false }
            return (b["use_regex"] as? Bool ?? true) == regex
        }
        if kinds == ["ByteLevel"] && byteLevel(regex: true) { return "gpt-2" }
        if kinds == ["Digits", "ByteLevel"] && parts[0]["individual_digits"] as? Bool == true && byteLevel(regex: true) { return "smollm" }
        if kinds == ["Split", "ByteLevel"] && byteLevel(regex: false),
           (parts[0]["pattern"] as? [String: Any])?["Regex"] as? String == llama3Split,
           (parts[0]["behavior"] as? String)?.lowercased() == "isolated" {
            return "llama-bpe"
        }
        throw TokenizerError.unsupportedPreTokenizer("tokenizer.json pre_tokenizer \(kinds.joined(separator: "+"))")
    }
}
