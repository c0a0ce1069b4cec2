// Pre-tokenizers: the regex splits byte-level BPE applies before merging. Port of llama.cpp's
// `unicode_regex_split` (src/unicode.cpp, llama-cpp-python 0.3.36): the hand-written matchers for the GPT-2
// and LLaMA-3 patterns, and the std::regex fallback for the simple character-class patterns of `smollm` and
// `default`, with the quirks that make llama.cpp differ from a textbook regex engine kept on purpose.

/// The Unicode classes the patterns use. llama.cpp's tables are Unicode 15.1; Swift's are newer, so code
/// points assigned after 15.1 count as unassigned here, as there. (Checked over all 0x110000 code points
/// against llama.cpp's unicode-data.cpp: same category for every one.)
struct CodepointClass: Equatable {
    var isNumber = false
    var isLetter = false
    var isPunctuation = false
    var isWhitespace = false
    /// False only past the end of the text being split (llama.cpp's all-zero `unicode_cpt_flags{}`).
    var exists = false

    static let outOfRange = CodepointClass()

    init() {}

    init(_ v: UInt32) {
        exists = true
        guard let s = Unicode.Scalar(v) else { return }
        let p = s.properties
        isWhitespace = p.isWhitespace
        guard let age = p.age, age.major < 15 || (age.major == 15 && age.minor <= 1) else { return }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            isLetter = true
        case .decimalNumber, .letterNumber, .otherNumber:
            isNumber = true
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            isPunctuation = true
        default:
            break
        }
    }
}

enum PreTokenizer: Sendable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)` (GPT-2).
    case gpt2
    /// `\p{N}` isolated first, then GPT-2: every digit is its own word (SmolLM, StarCoder).
    case smollm
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3
    /// llama.cpp's fallback for BPE vocabularies without a known pre-tokenizer: punctuation runs, GPT-2,
    /// number runs, then runs of three ASCII digits.
    case `default`

    /// What llama.cpp does for one `tokenizer.ggml.pre` name (llama-vocab.cpp, `load`).
    struct Configuration: Equatable {
        var split: PreTokenizer
        /// `clean_spaces`: decoding removes the space before `.,!?` and some contractions.
        var cleanSpaces = true
        /// `add_bos` before the file's own `tokenizer.ggml.add_bos_token` is read.
        var addBOS = false
        /// `ignore_merges`: a word that is already a token is not merged piece by piece.
        var ignoreMerges = false
    }

    /// The names whose split and flags Easel reproduces; other names are refused rather than guessed.
    static func configuration(named name: String?) -> Configuration? {
        switch name {
        case nil, "default":
            Configuration(split: .default)
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano":
            Configuration(split: .llama3, addBOS: true, ignoreMerges: true)
        case "dbrx", "smaug-bpe":
            Configuration(split: .llama3)
        case "gpt-2", "phi-2", "gigachat", "a.x-4.0", "mellum", "mpt", "olmo", "jais", "exaone4":
            Configuration(split: .gpt2)
        case "trillion", "granite-docling":
            Configuration(split: .gpt2, cleanSpaces: false)
        case "starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2":
            Configuration(split: .smollm)
        case "smollm", "command-r":
            Configuration(split: .smollm, cleanSpaces: false)
        default:
            nil
        }
    }

    /// Splits `cpts` into words, given as code point counts in order.
    func split(_ cpts: [UInt32]) -> [Int] {
        let t = Text(cpts: cpts, classes: cpts.map(CodepointClass.init))
        let all = [cpts.count]
        switch self {
        case .gpt2:
            return Self.gpt2(t, all)
        case .smollm:
            return Self.gpt2(t, Self.isolate(t, all, Self.single(Self.numberClass)))
        case .llama3:
            return Self.llama3(t, all)
        case .default:
            var parts = Self.isolate(t, all, Self.run(Self.punctuationClass))
            parts = Self.gpt2(t, parts)
            parts = Self.isolate(t, parts, Self.run(Self.numberClass))
            return Self.isolate(t, parts, Self.asciiDigitTriple)
        }
    }

    /// The code points being split, with their classes looked up once.
    struct Text {
        let cpts: [UInt32]
        let classes: [CodepointClass]
    }

    // MARK: Hand-written matchers (unicode_regex_split_custom_gpt2 / _llama3)

    /// Reads code points and classes inside one part; past either end reads as "nothing here".
    private struct Window {
        let text: Text
        let start: Int, end: Int
        static let none: UInt32 = 0xFFFF_FFFF
        func cpt(_ i: Int) -> UInt32 { i >= start && i < end ? text.cpts[i] : Self.none }
        func cls(_ i: Int) -> CodepointClass { i >= start && i < end ? text.classes[i] : .outOfRange }
    }

    private static func forEachPart(_ text: Text, _ parts: [Int],
                                    _ body: (Window, _ emit: (Int) -> Void) -> Void) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(parts.count)
        var start = 0
        for length in parts {
            let w = Window(text: text, start: start, end: start + length)
            var previousEnd = start
            body(w) { end in
                if end > previousEnd { out.append(end - previousEnd) }
                previousEnd = end
            }
            start += length
        }
        return out
    }

    private static let apostrophe = UInt32(UInt8(ascii: "'"))
    private static let space = UInt32(UInt8(ascii: " "))
    private static let cr = UInt32(UInt8(ascii: "\r")), lf = UInt32(UInt8(ascii: "\n"))

    /// Length of a contraction `'s 't 'm 'd 're 've 'll` at `pos`, or 0. `lower` folds case for LLaMA-3's
    /// `(?i:…)`; only ASCII letters fold to these letters, so ASCII folding is exact.
    private static func contraction(_ w: Window, _ pos: Int, lower: Bool) -> Int {
        guard w.cpt(pos) == apostrophe, pos + 1 < w.end else { return 0 }
        func fold(_ c: UInt32) -> UInt32 { lower && c >= 0x41 && c <= 0x5A ? c + 32 : c }
        let next = fold(w.cpt(pos + 1))
        if [UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d")].contains(where: { UInt32($0) == next }) {
            return 2
        }
        guard pos + 2 < w.end else { return 0 }
        let pair = (next, fold(w.cpt(pos + 2)))
        let e = UInt32(UInt8(ascii: "e")), l = UInt32(UInt8(ascii: "l"))
        if pair == (UInt32(UInt8(ascii: "r")), e) || pair == (UInt32(UInt8(ascii: "v")), e) || pair == (l, l) {
            return 3
        }
        return 0
    }

    private static func gpt2(_ text: Text, _ parts: [Int]) -> [Int] {
        forEachPart(text, parts) { w, emit in
            var pos = w.start
            while pos < w.end {
                let cpt = w.cpt(pos)
                let n = contraction(w, pos, lower: false)
                if n > 0 {
                    pos += n
                    emit(pos)
                    continue
                }
                // One optional leading space, then a run of one class.
                var c = cpt == space ? w.cls(pos + 1) : w.cls(pos)
                if c.isLetter {
                    if cpt == space { pos += 1 }
                    while c.isLetter { pos += 1; c = w.cls(pos) }
                    emit(pos)
                    continue
                }
                if c.isNumber {
                    if cpt == space { pos += 1 }
                    while c.isNumber { pos += 1; c = w.cls(pos) }
                    emit(pos)
                    continue
                }
                if !(c.isWhitespace || c.isLetter || c.isNumber) && c.exists {
                    if cpt == space { pos += 1 }
                    while !(c.isWhitespace || c.isLetter || c.isNumber) && c.exists { pos += 1; c = w.cls(pos) }
                    emit(pos)
                    continue
                }
                var spaces = 0
                while w.cls(pos + spaces).isWhitespace { spaces += 1 }
                // \s+(?!\S): leave the last space for the next word, unless the run ends the part.
                if spaces > 1 && w.cpt(pos + spaces) != Window.none {
                    pos += spaces - 1
                    emit(pos)
                    continue
                }
                if spaces > 0 {
                    pos += spaces
                    emit(pos)
                    continue
                }
                pos += 1
                emit(pos)
            }
        }
    }

    private static func llama3(_ text: Text, _ parts: [Int]) -> [Int] {
        forEachPart(text, parts) { w, emit in
            var pos = w.start
            while pos < w.end {
                let cpt = w.cpt(pos)
                let c0 = w.cls(pos)
                let n = contraction(w, pos, lower: true)
                if n > 0 {
                    pos += n
                    emit(pos)
                    continue
                }
                // [^\r\n\p{L}\p{N}]?\p{L}+
                if !(cpt == cr || cpt == lf || c0.isNumber) && (c0.isLetter || w.cls(pos + 1).isLetter) {
                    pos += 1
                    while w.cls(pos).isLetter { pos += 1 }
                    emit(pos)
                    continue
                }
                // \p{N}{1,3}
                if c0.isNumber {
                    var groupStart = pos
                    while w.cls(pos).isNumber {
                        pos += 1
                        if pos - groupStart >= 3 {
                            emit(pos)
                            groupStart = pos
                        }
                    }
                    emit(pos)
                    continue
                }
                // ' ?[^\s\p{L}\p{N}]+[\r\n]*'. llama.cpp tests the class of the space's follower but only
                // that the first code point exists; the copy keeps that.
                var c = cpt == space ? w.cls(pos + 1) : c0
                if !(c.isWhitespace || c.isLetter || c.isNumber) && c0.exists {
                    if cpt == space { pos += 1 }
                    while !(c.isWhitespace || c.isLetter || c.isNumber) && c.exists { pos += 1; c = w.cls(pos) }
                    while w.cpt(pos) == cr || w.cpt(pos) == lf { pos += 1 }
                    emit(pos)
                    continue
                }
                var spaces = 0
                var lastLineEnd = 0
                while w.cls(pos + spaces).isWhitespace {
                    let c2 = w.cpt(pos + spaces)
                    if c2 == cr || c2 == lf { lastLineEnd = pos + spaces + 1 }
                    spaces += 1
                }
                // \s*[\r\n]+
                if lastLineEnd > 0 {
                    pos = lastLineEnd
                    emit(pos)
                    continue
                }
                if spaces > 1 && w.cpt(pos + spaces) != Window.none {
                    pos += spaces - 1
                    emit(pos)
                    continue
                }
                if spaces > 0 {
                    pos += spaces
                    emit(pos)
                    continue
                }
                pos += 1
                emit(pos)
            }
        }
    }

    // MARK: std::regex fallback for class patterns (unicode_regex_split_stl on "collapsed" text)

    /// Finds the next match in `from..<end`: its range, or nil.
    typealias Matcher = (_ text: Text, _ from: Int, _ end: Int) -> Range<Int>?
    /// Whether code point `cpt` with class `cls` belongs to a character class.
    typealias Member = (_ cpt: UInt32, _ cls: CodepointClass) -> Bool

    /// Keeps matches and the text between them as separate words ("Isolated" in HF terms).
    private static func isolate(_ text: Text, _ parts: [Int], _ next: Matcher) -> [Int] {
        var out: [Int] = []
        var start = 0
        for length in parts {
            let end = start + length
            var pos = start
            while let m = next(text, pos, end) {
                if m.lowerBound > pos { out.append(m.lowerBound - pos) }
                out.append(m.count)
                pos = m.upperBound
            }
            if pos < end { out.append(end - pos) }
            start = end
        }
        return out
    }

    /// One code point of the class.
    private static func single(_ member: @escaping Member) -> Matcher {
        { t, from, end in
            var i = from
            while i < end && !member(t.cpts[i], t.classes[i]) { i += 1 }
            return i < end ? i..<(i + 1) : nil
        }
    }

    /// A maximal run of the class (`[…]+`).
    private static func run(_ member: @escaping Member) -> Matcher {
        { t, from, end in
            var i = from
            while i < end && !member(t.cpts[i], t.classes[i]) { i += 1 }
            guard i < end else { return nil }
            var j = i + 1
            while j < end && member(t.cpts[j], t.classes[j]) { j += 1 }
            return i..<j
        }
    }

    /// `[0-9][0-9][0-9]`, leftmost first.
    private static let asciiDigitTriple: Matcher = { t, from, end in
        func digit(_ i: Int) -> Bool { t.cpts[i] >= 0x30 && t.cpts[i] <= 0x39 }
        var i = from
        while i + 3 <= end {
            if digit(i) && digit(i + 1) && digit(i + 2) { return i..<(i + 3) }
            i += 1
        }
        return nil
    }

    private static let asciiPunctuation = Set("!\"#%&'()*,-./:;?@[\\]_{}$+<=>^~|".unicodeScalars.map(\.value))

    /// `\p{N}` as llama.cpp's collapsed regex sees it: ASCII digits, or a non-ASCII, non-space number.
    private static func numberClass(_ c: UInt32, _ k: CodepointClass) -> Bool {
        if c < 128 { return c >= 0x30 && c <= 0x39 }
        return !k.isWhitespace && k.isNumber
    }

    /// `[\p{P}\$\+<=>\^~\|]` as the collapsed regex sees it: ASCII punctuation except the backtick and the
    /// symbols listed, or a non-ASCII, non-space punctuation mark.
    private static func punctuationClass(_ c: UInt32, _ k: CodepointClass) -> Bool {
        if c < 128 { return asciiPunctuation.contains(c) }
        return !k.isWhitespace && k.isPunctuation
    }
}
