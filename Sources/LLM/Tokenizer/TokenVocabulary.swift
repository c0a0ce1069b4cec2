// The vocabulary state both tokenizers share: token bytes, attributes, special ids, the special-token
// split, and pieces for decoding. Port of the parts of llama.cpp's `llama_vocab::impl` (src/llama-vocab.cpp,
// llama-cpp-python 0.3.36) that the `llama` and `gpt2` tokenizer models use.

/// llama.cpp's `llama_token_attr` bits, derived from `tokenizer.ggml.token_type` and the name rules below.
struct TokenAttributes: OptionSet, Sendable {
    let rawValue: UInt16
    static let unknown = TokenAttributes(rawValue: 1 << 0)
    static let unused = TokenAttributes(rawValue: 1 << 1)
    static let normal = TokenAttributes(rawValue: 1 << 2)
    static let control = TokenAttributes(rawValue: 1 << 3)
    static let userDefined = TokenAttributes(rawValue: 1 << 4)
    static let byte = TokenAttributes(rawValue: 1 << 5)

    /// Tokens that `encode` matches in the text before any splitting (`cache_special_tokens`).
    static let matchedBeforeSplitting: TokenAttributes = [.control, .userDefined, .unknown]
    /// Tokens that are only written out or parsed when asked for (`attr_special`).
    static let special: TokenAttributes = [.unknown, .control]

    init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Unlisted types (0 and anything outside 0...6) are "undefined": no bits, decoded as nothing.
    init(tokenType: Int32) {
        switch TokenType(rawValue: tokenType) {
        case .normal: self = .normal
        case .unknown: self = .unknown
        case .control: self = .control
        case .userDefined: self = .userDefined
        case .unused: self = .unused
        case .byte: self = .byte
        case .undefined, nil: self = []
        }
    }
}

/// Token names llama.cpp uses to find end-of-turn and fill-in-the-middle tokens that a converter did not
/// record in the GGUF (llama-vocab.cpp, "auto-detect special tokens by text"). A token found this way
/// becomes a control token. The names are kept in llama.cpp's order; where several are present we take the
/// first name in this order, whereas llama.cpp takes whichever its hash map visits first.
private enum SpecialTokenNames {
    static let endOfTurn = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                            "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>",
                            "<end_of_utterance>"]
    static let endOfMessage = ["<|eom_id|>"]
    static let fimPrefix = ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>",
                            "▁<PRE>", "<|code_prefix|>", "<|prefix|>"]
    static let fimSuffix = ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>",
                            "▁<SUF>", "<|code_suffix|>", "<|suffix|>"]
    static let fimMiddle = ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>",
                            "▁<MID>", "<|code_middle|>", "<|middle|>"]
    static let fimPad = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]
    static let fimRepository = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"]
    static let fimFileSeparator = ["<|file_sep|>"]
    /// Every token with one of these names ends generation (llama.cpp's `special_eog_ids`).
    static let endOfGeneration: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<｜end▁of▁sentence｜>", "[e~[",
    ]
}

/// A piece of the text being tokenised: raw bytes still to split, or a special token already matched.
enum TextFragment: Equatable {
    case text(Range<Int>)
    case token(Int)
}

final class TokenVocabulary: Sendable {
    enum Kind { case sentencePiece, byteLevel }

    let kind: Kind
    /// Token text as bytes, by id. Bytes, not `String`: Swift compares strings by canonical equivalence,
    /// which would make "é" and "e\u{301}" one key, while llama.cpp keeps them apart.
    let texts: [[UInt8]]
    let ids: [[UInt8]: Int]
    let scores: [Float]
    let attributes: [TokenAttributes]

    let bosID: Int?
    let eosID: Int?
    let eotID: Int?
    let eomID: Int?
    let unknownID: Int?
    let addBOS: Bool
    let addEOS: Bool
    let addSpacePrefix: Bool
    /// `clean_up_tokenization_spaces`: decode drops the space before `.,!?` and in some contractions.
    let cleanSpaces: Bool
    let endOfGeneration: Set<Int>
    /// Ids matched before splitting, longest text first.
    let specialTokens: [Int]
    /// What each token decodes to with special tokens written out (`cache_token_to_piece`).
    let pieces: [[UInt8]]

    var count: Int { texts.count }

    /// - Parameter decodeNormal: how the tokenizer turns a normal token's text into bytes.
    init(_ v: GGUFVocabulary, kind: Kind, addBOSDefault: Bool, cleanSpaces: Bool,
         decodeNormal: ([UInt8]) -> [UInt8]) throws {
        guard !v.tokens.isEmpty else { throw TokenizerError.emptyVocabulary }
        let n = v.tokens.count
        if let s = v.scores, s.count < n {
            throw TokenizerError.countMismatch(field: "tokenizer.ggml.scores", expected: n, found: s.count)
        }
        if let t = v.tokenTypes, t.count < n {
            throw TokenizerError.countMismatch(field: "tokenizer.ggml.token_type", expected: n, found: t.count)
        }
        self.kind = kind
        var texts = [[UInt8]]()
        texts.reserveCapacity(n)
        var ids = [[UInt8]: Int](minimumCapacity: n)
        for (i, token) in v.tokens.enumerated() {
            // llama.cpp renames empty tokens so that no special-token search can match an empty string.
            let bytes = token.isEmpty ? Array("[EMPTY_\(i)]".utf8) : Array(token.utf8)
            if let first = ids[bytes] {
                throw TokenizerError.duplicateToken(text: String(decoding: bytes, as: UTF8.self), firstID: first, secondID: i)
            }
            ids[bytes] = i
            texts.append(bytes)
        }
        self.texts = texts
        self.ids = ids
        self.scores = v.scores.map { Array($0.prefix(n)) } ?? [Float](repeating: 0, count: n)
        var attributes = v.tokenTypes.map { $0.prefix(n).map(TokenAttributes.init(tokenType:)) }
            ?? [TokenAttributes](repeating: .normal, count: n)

        // Special ids: the file's value when it is in range, else the model type's default when in range.
        func resolve(_ fromFile: Int?, default d: Int?) -> Int? {
            if let f = fromFile, f >= 0, f < n { return f }
            if let d, d >= 0, d < n { return d }
            return nil
        }
        switch kind {
        case .sentencePiece:
            bosID = resolve(v.bosID, default: 1)
            eosID = resolve(v.eosID, default: 2)
            unknownID = resolve(v.unknownID, default: 0)
        case .byteLevel:
            // llama.cpp's BPE defaults are 11 for both; real files always carry their own.
            bosID = resolve(v.bosID, default: 11)
            eosID = resolve(v.eosID, default: 11)
            unknownID = resolve(v.unknownID, default: nil)
        }
        var eot = resolve(v.eotID, default: nil), eom = resolve(v.eomID, default: nil)
        addBOS = v.addBOS ?? addBOSDefault
        addEOS = v.addEOS ?? false
        addSpacePrefix = v.addSpacePrefix ?? (kind == .sentencePiece)
        self.cleanSpaces = cleanSpaces
        if addBOS && bosID == nil { throw TokenizerError.missingField("tokenizer.ggml.bos_token_id (add_bos_token is set)") }
        if addEOS && eosID == nil { throw TokenizerError.missingField("tokenizer.ggml.eos_token_id (add_eos_token is set)") }

        endOfGeneration = Self.applyNameRules(ids: ids, texts: texts, attributes: &attributes, eot: &eot, eom: &eom, eos: eosID)
        eotID = eot
        eomID = eom
        self.attributes = attributes
        // llama.cpp sorts by length only (std::sort, unstable); ties by id keep ours deterministic. Equal-length
        // special tokens only compete where two overlap in the text, which no supported vocabulary has.
        specialTokens = (0..<n).filter { !attributes[$0].isDisjoint(with: .matchedBeforeSplitting) }
            .sorted { (texts[$0].count, $1) > (texts[$1].count, $0) }
        pieces = (0..<n).map { Self.renderPiece(texts[$0], attributes[$0], decodeNormal: decodeNormal) }
    }

    /// llama.cpp's name rules: find EOT/EOM/FIM ids the file does not give, mark them control, mark control
    /// tokens whose name contains "unused" as unused, and return the end-of-generation set.
    private static func applyNameRules(ids: [[UInt8]: Int], texts: [[UInt8]], attributes: inout [TokenAttributes],
                                       eot: inout Int?, eom: inout Int?, eos: Int?) -> Set<Int> {
        func find(_ names: [String], into id: inout Int?) {
            guard id == nil else { return }
            for name in names {
                if let i = ids[Array(name.utf8)] {
                    id = i
                    attributes[i].insert(.control)
                    return
                }
            }
        }
        var fimPrefix: Int?, fimSuffix: Int?, fimMiddle: Int?, fimPad: Int?, fimRepository: Int?, fimSeparator: Int?
        find(SpecialTokenNames.endOfTurn, into: &eot)
        find(SpecialTokenNames.endOfMessage, into: &eom)
        find(SpecialTokenNames.fimPrefix, into: &fimPrefix)
        find(SpecialTokenNames.fimSuffix, into: &fimSuffix)
        find(SpecialTokenNames.fimMiddle, into: &fimMiddle)
        find(SpecialTokenNames.fimPad, into: &fimPad)
        find(SpecialTokenNames.fimRepository, into: &fimRepository)
        find(SpecialTokenNames.fimFileSeparator, into: &fimSeparator)

        for i in attributes.indices where attributes[i].contains(.control) && !attributes[i].contains(.unused) {
            if texts[i].containsSubsequence(Array("unused".utf8)) { attributes[i].insert(.unused) }
        }

        var eog = Set([fimPad, fimRepository, fimSeparator].compactMap { $0 })
        for name in SpecialTokenNames.endOfGeneration {
            if let i = ids[Array(name.utf8)] {
                eog.insert(i)
                attributes[i].insert(.control)
            }
        }
        for id in [eos, eot, eom].compactMap({ $0 }) { eog.insert(id) }
        return eog
    }

    /// `token_to_piece(id, special: true)` with nothing stripped.
    private static func renderPiece(_ text: [UInt8], _ a: TokenAttributes, decodeNormal: ([UInt8]) -> [UInt8]) -> [UInt8] {
        if !a.isDisjoint(with: [.unknown, .control, .userDefined]) { return text }
        if a.contains(.normal) { return decodeNormal(text) }
        if a.contains(.byte) { return [byteValue(of: text)] }
        return []  // unused or undefined tokens decode to nothing
    }

    /// The byte of a `<0xXX>` token: llama.cpp reads the two characters after "<0x" with strtol, so it stops
    /// at the first non-hex digit and gives 0 when there is none.
    static func byteValue(of text: [UInt8]) -> UInt8 {
        var value: UInt8 = 0
        for c in text.dropFirst(3).prefix(2) {
            guard let d = hexDigit(c) else { break }
            value = value &* 16 &+ d
        }
        return value
    }

    private static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    func pieceBytes(_ id: Int, renderSpecial: Bool) -> [UInt8] {
        guard id >= 0, id < count else { return [] }
        if !renderSpecial && !attributes[id].isDisjoint(with: .special) { return [] }
        return pieces[id]
    }

    func isEndOfGeneration(_ id: Int) -> Bool { endOfGeneration.contains(id) }

    // MARK: Special-token split (llama.cpp `tokenizer_st_partition`)

    /// Cuts `text` around every occurrence of a special token, longest tokens first. Control and unknown
    /// tokens are only cut out when `parseSpecial` is set; user-defined tokens always are.
    func partition(_ text: [UInt8], parseSpecial: Bool) -> [TextFragment] {
        guard !text.isEmpty else { return [] }
        var fragments: [TextFragment] = [.text(0..<text.count)]
        for id in specialTokens {
            if !parseSpecial && !attributes[id].isDisjoint(with: .special) { continue }
            let needle = texts[id]
            var next: [TextFragment] = []
            next.reserveCapacity(fragments.count)
            for fragment in fragments {
                guard case .text(let range) = fragment else {
                    next.append(fragment)
                    continue
                }
                var start = range.lowerBound
                while let match = text.firstRange(of: needle, in: start..<range.upperBound) {
                    if match.lowerBound > start { next.append(.text(start..<match.lowerBound)) }
                    next.append(.token(id))
                    start = match.upperBound
                }
                if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
            }
            fragments = next
        }
        return fragments
    }

    // MARK: Detokenize (llama.cpp `detokenize`)

    func detokenize(_ tokens: [Int], removeSpecial: Bool, renderSpecial: Bool) -> [UInt8] {
        var tokens = tokens[...]
        var removeSpace = addSpacePrefix
        if removeSpecial && addBOS, let first = tokens.first, first == bosID {
            removeSpace = false
            tokens = tokens.dropFirst()
        }
        if removeSpecial && addEOS, let last = tokens.last, last == eosID {
            tokens = tokens.dropLast()
        }
        var out: [UInt8] = []
        for id in tokens {
            var piece = pieceBytes(id, renderSpecial: renderSpecial)[...]
            // SentencePiece adds a space before the text; decoding takes one back off the first piece.
            if removeSpace, piece.first == UInt8(ascii: " ") { piece = piece.dropFirst() }
            removeSpace = false
            out.append(contentsOf: piece)
        }
        if cleanSpaces { Self.cleanUpTokenizationSpaces(&out) }
        return out
    }

    /// The three in-place passes of llama.cpp's `clean_spaces` step, kept byte for byte: each pass reads
    /// the buffer it is rewriting, so a faithful copy must rewrite in place too.
    static func cleanUpTokenizationSpaces(_ text: inout [UInt8]) {
        let space = UInt8(ascii: " "), quote = UInt8(ascii: "'")
        // Pass 1: " ?", " !", " .", " ," lose the space.
        var total = text.isEmpty ? 0 : 1
        for i in text.indices.dropFirst() {
            let x = text[i]
            if text[i - 1] == space, [UInt8(ascii: "?"), UInt8(ascii: "!"), UInt8(ascii: "."), UInt8(ascii: ",")].contains(x) {
                total -= 1
            }
            text[total] = x
            total += 1
        }
        text.removeSubrange(total...)
        // Pass 2: a lone apostrophe between spaces, " ' ", loses both spaces.
        let count2 = text.count
        total = count2 == 0 ? 0 : 1
        var i = 1
        while i < count2 {
            let x = text[i]
            if x == quote && i + 1 < count2 && text[i - 1] == space && text[i + 1] == space {
                total -= 1
                i += 1
                text[i] = 0
            }
            text[total] = x
            total += 1
            i += 1
        }
        text.removeSubrange(total...)
        // Pass 3: " 's", " 'm", " 're", " 've" lose the space; " 't", " 'd", " 'll" keep it.
        let count3 = text.count
        total = count3 == 0 ? 0 : 1
        for i in text.indices.dropFirst() {
            let x = text[i]
            if text[i - 1] == space && x == quote && i + 1 < count3 {
                let x1 = text[i + 1]
                if x1 == UInt8(ascii: "s") || x1 == UInt8(ascii: "m") {
                    total -= 1
                } else if i + 2 < count3 {
                    let x2 = text[i + 2]
                    if (x1 == UInt8(ascii: "r") || x1 == UInt8(ascii: "v")) && x2 == UInt8(ascii: "e") { total -= 1 }
                }
            }
            text[total] = x
            total += 1
        }
        text.removeSubrange(total...)
    }
}

extension Array where Element == UInt8 {
    /// First occurrence of `needle` within `bounds`, like `std::string_view::find`.
    func firstRange(of needle: [UInt8], in bounds: Range<Int>) -> Range<Int>? {
        guard !needle.isEmpty, needle.count <= bounds.count else { return nil }
        let first = needle[0]
        var i = bounds.lowerBound
        let last = bounds.upperBound - needle.count
        while i <= last {
            if self[i] == first {
                var j = 1
                while j < needle.count && self[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i..<(i + needle.count) }
            }
            i += 1
        }
        return nil
    }

    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        firstRange(of: needle, in: indices) != nil
    }
}

/// A tokenizer whose ids, pieces, special tokens and decoding all come from one TokenVocabulary: only
/// `encode` differs between SentencePiece BPE and byte-level BPE.
protocol VocabularyTokenizer: Tokenizer {
    var vocabulary: TokenVocabulary { get }
}

extension VocabularyTokenizer {
    public var vocabularySize: Int { vocabulary.count }
    public var bosID: Int? { vocabulary.bosID }
    public var eosID: Int? { vocabulary.eosID }
    public var eotID: Int? { vocabulary.eotID }

    public func isEndOfGeneration(_ id: Int) -> Bool { vocabulary.isEndOfGeneration(id) }
    public var endOfGenerationIDs: Set<Int> { vocabulary.endOfGeneration }

    public func pieceBytes(_ id: Int, renderSpecial: Bool) -> [UInt8] {
        vocabulary.pieceBytes(id, renderSpecial: renderSpecial)
    }

    public func decode(_ ids: [Int], removeSpecial: Bool, renderSpecial: Bool) -> String {
        String(decoding: vocabulary.detokenize(ids, removeSpecial: removeSpecial, renderSpecial: renderSpecial), as: UTF8.self)
    }
}
