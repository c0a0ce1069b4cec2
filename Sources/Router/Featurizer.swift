/// Turns a user turn into the features the naive Bayes router counts.
///
/// One pass over the Unicode scalars, no Foundation, so routing stays in microseconds:
/// - Normalisation: lower case; the Latin accents of Spanish, French and German folded
///   (`dibújame` → `dibujame`, `ß` → `ss`, decomposed accents dropped) because users type them
///   inconsistently; full-width ASCII (`？`, `Ａ`) mapped to ASCII; apostrophes, punctuation,
///   control characters and anything unprintable are separators.
/// - Spaced languages: word unigrams (`draw`), word bigrams (`draw a`), and the first token paired
///   with a start mark (`^ draw`), which separates the imperative "draw a cat" from "how do I draw".
///   Every clause starts afresh after `. , ! ? :`, a dash, an ellipsis or a new line, so the
///   imperative in "cool story, now draw it" is marked too. A run of digits is one token `0`, so
///   "3x + 5" and "12x + 7" share features.
/// - Chinese, Japanese and Korean have no spaces: each CJK run gives character unigrams (`画`) and
///   bigrams (`画一`). Word bigrams never span a CJK run.
/// - `?` and the symbols of code and maths (`= + * / < > { } ( ) [ ] ; _ # $ % & | \` ~ @`) are
///   one-character tokens (`^` is not: it is the start mark); emoji are one token each.
/// - One length feature, `<len:…>` (see `lengthFeature`).
/// - The previous route, when there is one, conjoined with each unigram and the start bigram:
///   after an image `<image> make`, `<image> ^ another`; after a text reply `<chat> make`. The words
///   of a follow-up ("make it blue", "another one", "shorter") mean different things after an image
///   and after a text reply, and these features let the counts say so. They are the only way the
///   previous turn enters the features (see `NaiveBayesRouter` for the context prior).
///
/// The router only reads the first `maximumScalars` scalars, so a 100 KB paste costs the same as a
/// long paragraph; the opening of a turn is where its request is.
public struct Featurizer: Sendable {
    /// Bumped whenever the features change, so a saved model trained with other features is refused.
    public static let version = 1
    public static let maximumScalars = 4096

    public init() {}

    /// The distinct features of `text` after a turn routed `previous` (nil for a first turn), in first-seen order.
    public func features(of text: String, previous: Route?) -> [String] {
        let plain = features(of: text)
        guard let previous else { return plain }
        let mark = "<\(previous.rawValue)> "
        return plain + plain.lazy.filter { !$0.contains(" ") || $0.hasPrefix("^ ") }.map { mark + $0 }
    }

    /// The distinct features of `text` alone, in first-seen order.
    public func features(of text: String) -> [String] {
        var tokens = Tokens()
        var scalarCount = 0
        for raw in text.unicodeScalars {
            scalarCount += 1
            if scalarCount > Self.maximumScalars { break }
            let (first, second) = Self.normalise(raw)
            tokens.consume(first)
            if let second { tokens.consume(second) }
        }
        tokens.finish()
        var seen = Set<String>()
        seen.reserveCapacity(tokens.features.count)
        return tokens.features.filter { seen.insert($0).inserted }
    }

    /// Full-width forms to ASCII, then one lower-case, accent-folded scalar, or two for `ß`, `æ`, `œ`.
    /// A pair rather than an array: this runs once per scalar and must not allocate.
    static func normalise(_ s: Unicode.Scalar) -> (Unicode.Scalar, Unicode.Scalar?) {
        var v = s.value
        if (0xFF01...0xFF5E).contains(v) { v -= 0xFEE0 }            // Ａ → A, ？ → ?
        if v < 0x80 {
            if (0x41...0x5A).contains(v) { v += 0x20 }
            return (Unicode.Scalar(UInt8(v)), nil)
        }
        let scalar = Unicode.Scalar(v) ?? s
        guard scalar.properties.changesWhenLowercased || (0xDF...0x17F).contains(v) else { return (scalar, nil) }
        let lower = scalar.properties.lowercaseMapping.unicodeScalars
        guard lower.count == 1, let l = lower.first else { return (lower.first ?? scalar, lower.dropFirst().first) }
        switch l {
        case "à", "á", "â", "ã", "ä", "å": return ("a", nil)
        case "ç": return ("c", nil)
        case "è", "é", "ê", "ë": return ("e", nil)
        case "ì", "í", "î", "ï": return ("i", nil)
        case "ñ": return ("n", nil)
        case "ò", "ó", "ô", "õ", "ö", "ø": return ("o", nil)
        case "ù", "ú", "û", "ü": return ("u", nil)
        case "ý", "ÿ": return ("y", nil)
        case "ß": return ("s", "s")
        case "æ": return ("a", "e")
        case "œ": return ("o", "e")
        default: return (l, nil)
        }
    }

    /// The turn's length in words (two CJK characters count as one), in buckets: `<len:0>`, `<len:1>`,
    /// `<len:2>`, `<len:3-4>`, `<len:5-8>`, `<len:9-16>`, `<len:17+>`. A one-word turn with no image
    /// before it is nearly always small talk, and a paragraph is often a scene to draw.
    static func lengthFeature(_ length: Int) -> String {
        switch length {
        case 0...2: "<len:\(length)>"
        case 3...4: "<len:3-4>"
        case 5...8: "<len:5-8>"
        case 9...16: "<len:9-16>"
        default: "<len:17+>"
        }
    }

    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x3040...0x30FF,      // hiragana, katakana
             0x3400...0x4DBF,      // CJK extension A
             0x4E00...0x9FFF,      // CJK unified ideographs
             0xAC00...0xD7AF,      // hangul syllables
             0xF900...0xFAFF,      // CJK compatibility ideographs
             0x20000...0x2FA1F:    // CJK extensions B-F and supplement
            return true
        default:
            return false
        }
    }

    static let symbolTokens: Set<Unicode.Scalar> = [
        "?", "=", "+", "*", "/", "<", ">", "{", "}", "(", ")", "[", "]", ";", "_", "#", "$", "%", "&", "|",
        "\\", "`", "~", "@",
    ]

    /// Punctuation after which a new clause starts, so "what would it look like? show me" marks
    /// `^ show` as it would at the start of a turn.
    static let clauseEnds: Set<Unicode.Scalar> = [
        ".", ",", "!", ":", "\n", "\u{2014}", "\u{2013}", "\u{3002}", "\u{3001}", "\u{2026}",
    ]

    static func isEmoji(_ s: Unicode.Scalar) -> Bool {
        s.value > 0x2000 && s.properties.isEmoji && !isCJK(s)
    }

    /// The tokenizer's state while it walks the scalars.
    struct Tokens {
        var features: [String] = []
        private var word = String.UnicodeScalarView()
        private var wordIsDigits = true
        private var previousWord: String? = "^"       // "^" marks the start of the turn
        private var previousCJK: Unicode.Scalar?
        private var words = 0
        private var cjkCharacters = 0

        mutating func consume(_ s: Unicode.Scalar) {
            let properties = s.properties
            if Featurizer.isCJK(s) {
                endWord()
                let unigram = String(Character(s))
                if let p = previousCJK {
                    var bigram = String.UnicodeScalarView()
                    bigram.append(p)
                    bigram.append(s)
                    features.append(String(bigram))
                }
                if previousWord == "^" { features.append("^ " + unigram) }
                features.append(unigram)
                cjkCharacters += 1
                previousCJK = s
                previousWord = nil                   // word bigrams never span a CJK run
            } else if properties.generalCategory == .nonspacingMark {
                // Decomposed accents ("e" + U+0301) are dropped, as precomposed ones are folded, and
                // so are variation selectors; neither ends a word.
            } else if properties.isAlphabetic || properties.numericType != nil || properties.generalCategory == .spacingMark {
                previousCJK = nil
                word.append(s)
                if properties.numericType == nil { wordIsDigits = false }
            } else if Featurizer.symbolTokens.contains(s) || Featurizer.isEmoji(s) {
                endWord()
                previousCJK = nil
                emit(String(Character(s)))
                if s == "?" { previousWord = "^" }
            } else {
                endWord()                             // whitespace, punctuation, controls, garbage
                if s != " " { previousCJK = nil }
                if Featurizer.clauseEnds.contains(s) { previousWord = "^" }
            }
        }

        /// Adds the length feature once the turn is read.
        mutating func finish() {
            endWord()
            let length = words + (cjkCharacters + 1) / 2
            features.append(Featurizer.lengthFeature(length))
        }

        private mutating func endWord() {
            guard !word.isEmpty else { return }
            words += 1
            let token = wordIsDigits ? "0" : String(word)
            word = String.UnicodeScalarView()
            wordIsDigits = true
            emit(token)
        }

        private mutating func emit(_ token: String) {
            if let p = previousWord { features.append(p + " " + token) }
            features.append(token)
            previousWord = token
        }
    }
}
