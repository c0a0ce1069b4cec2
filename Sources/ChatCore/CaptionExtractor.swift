import Foundation

/// What an image turn draws: the caption shown to the user and given to the text encoder.
public struct Caption: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// A picture described from scratch ("Draw a pizza on a table" → "a pizza on a table").
        case new
        /// The last picture's caption with a change ("make it blue", "same but at night").
        case edit
        /// The last picture's caption again, for a new seed ("another one").
        case again
    }
    public var text: String
    public var kind: Kind

    public init(_ text: String, kind: Kind) {
        self.text = text
        self.kind = kind
    }
}

/// Turns a drawing request into a caption by rules: the request phrasing goes ("please", "can you",
/// "draw me a picture of", trailing "thanks"), and a follow-up ("make it blue", "now add a hat",
/// "same but at night", "another one") combines with the last picture's caption.
///
/// Rules rather than the chat model: a 135M model rewrites captions unpredictably, while a rule is
/// instant, deterministic (transcripts are golden tests) and testable phrase by phrase. English is
/// covered broadly; French, Spanish, German and Chinese (the router corpus's other languages) get the
/// common request verbs and follow-ups.
///
/// How a follow-up combines, in order:
/// - a colour alone ("make it blue", "can it be pink?") replaces the caption's first colour word,
///   and "make the background yellow" the colour before "background"; with no colour there it is appended;
/// - "swap the cat for a fox" / "a fox instead of the cat" replaces the named thing when the caption has it;
/// - "change the background to a beach" becomes "a beach background";
/// - "add X" / "give her X" becomes "with X", "remove X" becomes "without X";
/// - anything else ("same but at night", "in watercolor", "closer") is appended after a comma.
public struct CaptionExtractor: Sendable {
    public init() {}

    /// The caption for `request`; `previous` is the last picture's caption in this conversation, if any.
    /// The result's text is empty when nothing is left to draw ("draw", or "another one" with no picture yet).
    public func caption(for request: String, previous: String?) -> Caption {
        if request.unicodeScalars.contains(where: Self.isHan) {
            return chineseCaption(request, previous: previous)
        }
        var words = Words(request)
        words.stripTrailingNoise()
        words.stripLeading(Self.interjections, requirePunctuation: false)
        words.stripLeading(Self.reactions, requirePunctuation: true)
        words.stripLeading(Self.interjections, requirePunctuation: false)
        words.stripLeading(Self.politeness, requirePunctuation: false)

        if let previous, !previous.isEmpty {
            if words.matchesWhole(Self.again) { return Caption(previous, kind: .again) }
            if let modifier = editModifier(words) {
                return Caption(combine(previous, with: modifier), kind: .edit)
            }
        } else if words.matchesWhole(Self.again) {
            return Caption("", kind: .again)
        } else {
            // A follow-up with nothing to follow draws what it names ("make it blue" → "blue"); other
            // edit phrasings ("paint the sky red") are full requests on a first picture.
            var rest = words
            if rest.stripLeading(Self.makeIt, requirePunctuation: false) {
                rest.stripLeading([["look", "like"], ["look"], ["be"]], requirePunctuation: false)
                return Caption(rest.text, kind: .new)
            }
        }

        let requested = words.stripRequest()
        // "a fox in the snow" after a picture is a new description; "at night" or "closer" is a change.
        if let previous, !previous.isEmpty, !requested, !words.startsWithIndefiniteArticle {
            return Caption(combine(previous, with: Modifier(text: words.text, form: .append)), kind: .edit)
        }
        return Caption(words.text, kind: .new)
    }

    // MARK: Follow-ups

    struct Modifier: Equatable {
        enum Form: Equatable {
            /// ", X"
            case append
            /// ", with X"
            case with
            /// ", without X"
            case without
            /// X is a colour: it replaces the colour word before `thing` (the caption's first colour word
            /// when nil), or goes in front of `thing`; without either, "X thing" is appended.
            case recolour(thing: String?)
            /// X takes the place of `old` ("a cat" → "a fox"); appended when the caption does not name `old`.
            case replace(old: String)
        }
        var text: String
        var form: Form
    }

    /// The change a follow-up asks for, or nil when `words` is not phrased as a change.
    func editModifier(_ original: Words) -> Modifier? {
        var w = original
        // "same but at night", "another one, but bigger", "une autre, mais en hiver": the part after "but".
        if w.stripLeading(Self.sameBut, requirePunctuation: false) || w.stripLeading(Self.againThen, requirePunctuation: true) {
            w.stripLeading([["but"], ["mais"], ["pero"], ["aber"]], requirePunctuation: false)
            return w.isEmpty ? nil : (editModifier(w) ?? Modifier(text: w.text, form: .append))
        }
        if w.stripLeading([["what", "if"]], requirePunctuation: false) {
            if w.stripLeading([["it", "had"], ["they", "had"], ["he", "had"], ["she", "had"]], requirePunctuation: false) {
                return w.isEmpty ? nil : Modifier(text: w.text, form: .with)
            }
            w.stripLeading(Self.pronounBe, requirePunctuation: false)
            return w.isEmpty ? nil : Modifier(text: w.replacingWord("had", with: "with").text, form: .append)
        }
        if w.stripLeading([["what", "about"], ["how", "about"]], requirePunctuation: false) {
            if w.stripLeading([["adding"], ["with"]], requirePunctuation: false) {
                return w.isEmpty ? nil : Modifier(text: w.text, form: .with)
            }
            w.stripLeading([["making", "it"], ["making", "them"], ["doing", "it"], ["a", "version"], ["one"]], requirePunctuation: false)
            let rest = w.strippingVersion()
            guard !rest.isEmpty else { return nil }
            return colourEdit(rest.text, thing: nil) ?? Modifier(text: rest.text, form: .append)
        }
        // "swap the cat for a fox", "replace the dog with a horse".
        var swap = w
        if swap.stripLeading([["swap"], ["replace"], ["exchange"]], requirePunctuation: false),
           let split = swap.split(atAnyOf: ["for", "with"]) {
            return Modifier(text: split.after.text, form: .replace(old: split.before.text))
        }
        // "change the background to a beach" → "a beach background"; "change it to winter" → "winter".
        var change = w
        if change.stripLeading([["change"], ["turn"], ["switch"], ["set"]], requirePunctuation: false),
           let split = change.split(atAnyOf: ["to", "into"]) {
            var thing = split.before
            thing.stripLeading(Self.determiners, requirePunctuation: false)
            if thing.isEmpty || Self.pronouns.contains(thing.text.lowercased()) {
                return colourEdit(split.after.text, thing: nil) ?? Modifier(text: split.after.text, form: .append)
            }
            return colourEdit(split.after.text, thing: thing.text)
                ?? Modifier(text: split.after.text + " " + thing.text, form: .append)
        }
        // "can we have a cat instead of the dog".
        if let split = w.split(atPhrase: ["instead", "of"]) {
            var new = split.before
            new.stripLeading([["can", "we", "have"], ["can", "i", "have"], ["have"], ["use"], ["put"], ["make", "it"], ["draw"]],
                             requirePunctuation: false)
            if !new.isEmpty { return Modifier(text: new.text, form: .replace(old: split.after.text)) }
        }
        if w.stripLeading(Self.addVerbs, requirePunctuation: false) {
            return w.isEmpty ? nil : Modifier(text: w.text, form: .with)
        }
        if w.stripLeading(Self.removeVerbs, requirePunctuation: false) {
            return w.isEmpty ? nil : Modifier(text: w.text, form: .without)
        }
        // "make it blue", "make it look older", "try making it brighter", "now do it in pixel art",
        // "can it be pink", "rends-la plus lumineuse", "mach sie heller".
        var verb = w
        verb.stripLeading([["try"], ["let's"]], requirePunctuation: false)
        if verb.stripLeading(Self.makeIt, requirePunctuation: false) || verb.stripLeading(Self.pronounBe, requirePunctuation: false) {
            verb.stripLeading([["look", "like"], ["look"], ["be"], ["seem"]], requirePunctuation: false)
            verb.stripTrailing([["instead"], ["this", "time"]])
            guard !verb.isEmpty else { return nil }
            return colourEdit(verb.text, thing: nil) ?? Modifier(text: verb.text, form: .append)
        }
        // "make the cat bigger", "make her hair red", "paint the sky more orange".
        var subject = w
        if subject.stripLeading([["make"], ["paint"], ["colour"], ["color"]], requirePunctuation: false),
           subject.startsWith(Self.definite) {
            if let last = subject.lastWord, Self.colours.contains(last) {
                var thing = subject.droppingLast()
                thing.stripLeading(Self.determiners, requirePunctuation: false)
                thing.stripTrailing([["more"], ["less"], ["all"], ["completely"], ["fully"]])
                if !thing.isEmpty { return Modifier(text: last, form: .recolour(thing: thing.text)) }
            }
            return Modifier(text: subject.text, form: .append)
        }
        // "the car should be red", "the dragon should have wings".
        if let split = w.split(atPhrase: ["should", "be"]) ?? w.split(atPhrase: ["needs", "to", "be"]) {
            var thing = split.before
            thing.stripLeading(Self.determiners, requirePunctuation: false)
            return colourEdit(split.after.text, thing: thing.text)
                ?? Modifier(text: split.after.text + " " + thing.text, form: .append)
        }
        if let split = w.split(atPhrase: ["should", "have"]) {
            return Modifier(text: split.after.text, form: .with)
        }
        var retry = w
        if retry.stripLeading([["try", "it"], ["do", "it"], ["redo", "it"], ["try"]], requirePunctuation: false) {
            retry.stripTrailing([["instead"]])
            return retry.isEmpty ? nil : Modifier(text: retry.text, form: .append)
        }
        var one = w
        if one.stripLeading([["one"]], requirePunctuation: false), !one.isEmpty, !one.startsWith([["more"]]) {
            return Modifier(text: one.text, form: .append)
        }
        return nil
    }

    /// A recolouring when `text` is one colour word ("blue"), else nil.
    func colourEdit(_ text: String, thing: String?) -> Modifier? {
        guard Self.colours.contains(Words.key(text)) else { return nil }
        return Modifier(text: text, form: .recolour(thing: thing))
    }

    /// `previous` changed by `modifier`.
    func combine(_ previous: String, with modifier: Modifier) -> String {
        var words = previous.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let keys = words.map(Words.key)
        switch modifier.form {
        case .append:
            return modifier.text.isEmpty ? previous : previous + ", " + modifier.text
        case .with:
            return previous + ", with " + modifier.text
        case .without:
            return previous + ", without " + modifier.text
        case .recolour(nil):
            guard let i = keys.firstIndex(where: Self.colours.contains) else { return previous + ", " + modifier.text }
            words[i] = modifier.text + Words.trailingPunctuation(of: words[i])
            Self.fixArticle(before: i, in: &words)
            return words.joined(separator: " ")
        case .recolour(let thing?):
            let named = Words(thing)
            guard let i = Words.find(named.keys, in: keys) else { return previous + ", " + modifier.text + " " + thing }
            if i > 0, Self.colours.contains(keys[i - 1]) {
                words[i - 1] = modifier.text
                Self.fixArticle(before: i - 1, in: &words)
            } else {
                words.insert(modifier.text, at: i)
                Self.fixArticle(before: i, in: &words)
            }
            return words.joined(separator: " ")
        case .replace(let old):
            // "a cat" / "the cat" / "cat" gives way to the new thing, article included.
            var named = Words(old)
            named.stripLeading(Self.determiners, requirePunctuation: false)
            guard !named.isEmpty, let i = Words.find(named.keys, in: keys) else { return previous + ", " + modifier.text }
            var new = Words(modifier.text)
            var start = i
            if i > 0, Self.determiners.contains([keys[i - 1]]) {
                start = i - 1
            } else {
                new.stripLeading(Self.determiners, requirePunctuation: false)
            }
            let end = i + named.keys.count
            words.replaceSubrange(start..<end, with: [new.text + Words.trailingPunctuation(of: words[end - 1])])
            return words.joined(separator: " ")
        }
    }

    /// "a orange" → "an orange" after a recolouring (by the first letter, which is right for colour words).
    static func fixArticle(before i: Int, in words: inout [String]) {
        guard i > 0 else { return }
        let article = words[i - 1].lowercased()
        guard article == "a" || article == "an" else { return }
        let vowel = words[i].lowercased().first.map { "aeiou".contains($0) } ?? false
        let fixed = vowel ? "an" : "a"
        words[i - 1] = words[i - 1].first?.isUppercase == true ? fixed.capitalized : fixed
    }

    // MARK: Chinese

    func chineseCaption(_ request: String, previous: String?) -> Caption {
        var s = request.trimmingCharacters(in: .whitespacesAndNewlines)
        func strip(prefixes: [String]) -> Bool {
            for p in prefixes.sorted(by: { $0.count > $1.count }) where s.hasPrefix(p) {
                s = String(s.dropFirst(p.count)).trimmingCharacters(in: .whitespaces)
                return true
            }
            return false
        }
        while let last = s.last, "。！？!?.，,~～".contains(last) { s.removeLast() }
        for suffix in ["好吗", "可以吗", "吧", "吗", "呢", "谢谢"] where s.hasSuffix(suffix) { s.removeLast(suffix.count) }
        while strip(prefixes: ["请", "麻烦", "帮我", "给我", "帮忙", "你能", "能不能", "可以", "能", "我想要", "我要", "再"]) {}
        if let previous, !previous.isEmpty, ["画一个", "画一张", "来一张", "来一个", "画一个不同的", "来一张不同的", "画", ""].contains(s) {
            return Caption(previous, kind: .again)
        }
        if let previous, !previous.isEmpty, strip(prefixes: ["加一只", "加一个", "加上", "加"]) {
            return Caption(previous + ", with " + s, kind: .edit)
        }
        let requested = strip(prefixes: ["画一张", "画一个", "画一幅", "画个", "画", "生成一张", "生成一个", "生成", "做一张", "做一个",
                                         "做个", "设计一个", "设计", "来一张", "来一个"])
        _ = strip(prefixes: ["图：", "图:", "图片：", "图片:", "：", ":"])
        for suffix in ["的图片", "的图", "的画", "的插画", "给我"] where s.hasSuffix(suffix) { s.removeLast(suffix.count) }
        if let previous, !previous.isEmpty, !requested {
            return Caption(previous + ", " + s, kind: .edit)
        }
        return Caption(s, kind: .new)
    }

    static func isHan(_ u: Unicode.Scalar) -> Bool {
        (0x4E00...0x9FFF).contains(u.value) || (0x3400...0x4DBF).contains(u.value)
    }

    // MARK: Phrase lists (lower case; apostrophes straight)

    static let colours: Set<String> = [
        "red", "green", "blue", "yellow", "purple", "orange", "white", "black", "pink", "brown", "grey", "gray",
        "cyan", "magenta", "violet", "gold", "golden", "silver", "teal", "turquoise", "beige",
    ]
    static let pronouns: Set<String> = ["it", "them", "him", "her", "this", "that", "everything"]
    static let determiners: [[String]] = [["the"], ["a"], ["an"], ["her"], ["his"], ["its"], ["their"], ["this"], ["that"]]
    static let definite: [[String]] = [["the"], ["her"], ["his"], ["its"], ["their"]]

    /// Said before the request and dropped: "ok", "hmm", "now".
    static let interjections: [[String]] = [
        ["ok"], ["okay"], ["hey"], ["hi"], ["hmm"], ["hmmm"], ["hm"], ["wow"], ["ooh"], ["oh"], ["alright"], ["yes"], ["yeah"],
        ["yep"], ["well"], ["so"], ["and"], ["now"], ["then"], ["also"], ["but"], ["this", "time"], ["right"], ["easel"],
        ["maintenant"], ["ahora"], ["jetzt"], ["et"], ["y"], ["und"],
    ]
    /// Reactions dropped only when punctuated ("no, the dragon…", "looks good, but…"), because "no clouds" is a change.
    static let reactions: [[String]] = [
        ["no"], ["nope"], ["not", "quite"], ["close"], ["great"], ["nice"], ["cool"], ["awesome"], ["perfect"], ["lovely"],
        ["beautiful"], ["good"], ["looks", "good"], ["love", "it"], ["i", "love", "it"], ["that's", "not", "right"],
        ["not", "what", "i", "asked"], ["not", "like", "that"], ["fine"], ["thanks"], ["thank", "you"], ["super"], ["genial"], ["génial"],
        ["toll"], ["prima"],
    ]
    static let politeness: [[String]] = [
        ["please"], ["pls"], ["plz"], ["kindly"], ["can", "you"], ["could", "you"], ["would", "you"], ["will", "you"],
        ["can", "u"], ["could", "u"], ["would", "you", "mind"], ["would", "you", "be", "able", "to"], ["are", "you", "able", "to"],
        ["can", "i", "get"], ["can", "i", "have"], ["could", "i", "get"], ["could", "i", "have"], ["may", "i", "have"],
        ["can", "we", "get"], ["i'd", "love"], ["i", "would", "love"], ["i'd", "like"], ["i", "would", "like"], ["i", "want"],
        ["i", "wanna"], ["i", "need"], ["i'd", "love", "to", "see"], ["i'd", "like", "to", "see"], ["i", "want", "to", "see"],
        ["i", "would", "love", "to", "see"], ["i", "wanted"], ["i", "meant"], ["i'd", "love", "it", "if", "you", "could"], ["let", "me", "see"], ["let's", "see"],
        ["let's", "have"], ["show", "me"], ["give", "me"], ["get", "me"], ["go", "ahead", "and"], ["try", "to"],
        ["pouvez-vous"], ["peux-tu"], ["puedes"], ["kannst", "du"], ["bitte"], ["por", "favor"], ["s'il", "te", "plaît"],
        ["s'il", "vous", "plaît"], ["je", "veux"], ["je", "voudrais"], ["quiero"], ["ich", "möchte"], ["ich", "will"],
    ]
    /// Verbs that ask for a picture, followed optionally by "me"/"us".
    static let requestVerbs: [[String]] = [
        ["draw"], ["paint"], ["sketch"], ["render"], ["generate"], ["create"], ["make"], ["illustrate"], ["design"], ["produce"],
        ["imagine"], ["depict"], ["visualize"], ["visualise"], ["doodle"], ["show"], ["give"], ["picture"], ["do"],
        ["dessine"], ["dessine-moi"], ["dessinez"], ["dessinez-moi"], ["peins"], ["peins-moi"], ["fais"], ["fais-moi"],
        ["crée"], ["crée-moi"], ["génère"], ["génère-moi"], ["montre-moi"], ["dibuja"], ["dibújame"], ["dibujame"], ["pinta"],
        ["píntame"], ["hazme"], ["haz"], ["crea"], ["créame"], ["genera"], ["genérame"], ["muéstrame"], ["zeichne"], ["male"],
        ["mal"], ["erstelle"], ["generiere"], ["erzeuge"], ["zeig"], ["zeige"],
    ]
    static let recipients: [[String]] = [["me"], ["us"], ["for", "me"], ["mir"], ["uns"], ["moi"]]
    /// "a picture of", "an image showing", "une image de", "ein Bild von".
    static let artefacts: [String] = [
        "picture", "pic", "photo", "photograph", "image", "illustration", "drawing", "painting", "sketch", "render", "rendering",
        "artwork", "depiction", "dessin", "tableau", "dibujo", "imagen", "foto", "ilustración", "cuadro", "bild", "zeichnung",
        "gemälde", "illustration",
    ]
    static let artefactAdjectives: Set<String> = ["quick", "little", "small", "nice", "cool", "simple", "new", "beautiful", "pretty", "good"]
    static let artefactLinks: [[String]] = [
        ["of"], ["showing"], ["that", "shows"], ["depicting"], ["featuring"], ["with"], ["de"], ["d'"], ["von"], ["vom"], ["mit"],
    ]
    static let indefinite: [[String]] = [["a"], ["an"], ["some"], ["one"], ["un"], ["une"], ["una"], ["uno"], ["ein"], ["eine"], ["einen"]]

    /// Whole follow-ups that mean "the same caption, a new seed".
    static let again: [[String]] = [
        ["another"], ["another", "one"], ["one", "more"], ["once", "more"], ["again"], ["do", "it", "again"], ["try", "again"],
        ["try", "once", "more"], ["redo"], ["redo", "it"], ["do", "another"], ["do", "another", "one"], ["more"],
        ["more", "like", "this"], ["more", "like", "that"], ["more", "of", "these"], ["more", "of", "those"], ["give", "me", "more"],
        ["another", "version"], ["another", "variation"], ["a", "different", "one"], ["different", "one"], ["retry"],
        ["regenerate"], ["reroll"], ["re-roll"], ["two", "more"], ["2", "more"], ["two", "more", "versions"],
        ["2", "more", "versions"], ["two", "more", "like", "that"], ["give", "me", "two", "more", "like", "that"],
        ["one", "more", "time"], ["same", "again"], ["do", "it", "once", "more"],
        ["une", "autre"], ["encore", "une"], ["encore", "une", "autre"], ["encore"], ["otra"], ["otra", "distinta"],
        ["otra", "más"], ["otra", "vez"], ["noch", "eine"], ["noch", "eine", "andere"], ["noch", "einmal"], ["nochmal"],
    ]
    /// "same but …", "another one, but …": the part after them is the change.
    static let sameBut: [[String]] = {
        let bases: [[String]] = [
            ["same"], ["the", "same"], ["same", "thing"], ["same", "scene"], ["same", "image"], ["same", "picture"],
            ["same", "one"], ["again"], ["another"], ["another", "one"], ["one", "more"], ["once", "more"], ["like", "that"],
            ["une", "autre"], ["encore", "une"], ["otra"], ["noch", "eine"],
        ]
        return bases.flatMap { base in ["but", "mais", "pero", "aber"].map { base + [$0] } }
            + [["same", "scene"], ["same", "thing"], ["same", "image"], ["same", "picture"]]
    }()
    /// "again, different colors": a repeat word set off by punctuation, then the change.
    static let againThen: [[String]] = [["again"], ["another"], ["another", "one"], ["one", "more"], ["once", "more"]]
    static let pronounBe: [[String]] = [
        ["can", "it", "be"], ["could", "it", "be"], ["it", "should", "be"], ["make", "it", "be"], ["it", "were"], ["it", "was"],
        ["it", "is"], ["they", "were"], ["he", "was"], ["she", "was"], ["he", "were"], ["she", "were"], ["be"],
    ]
    static let makeIt: [[String]] = [
        ["make", "it"], ["make", "them"], ["make", "him"], ["make", "her"], ["make", "this"], ["make", "that"],
        ["make", "the", "image"], ["make", "the", "picture"], ["make", "everything"], ["making", "it"], ["turn", "it"],
        ["render", "it"], ["draw", "it"], ["paint", "it"], ["do", "it"], ["redo", "it"], ["have", "it"], ["try", "it"],
        ["rends-la"], ["rends-le"], ["fais-la"], ["fais-le"], ["hazla"], ["hazlo"], ["ponla"], ["ponlo"], ["mach", "sie"],
        ["mach", "es"], ["mach", "ihn"], ["mache", "es"],
    ]
    static let addVerbs: [[String]] = [
        ["add"], ["put"], ["include"], ["place"], ["give", "it"], ["give", "her"], ["give", "him"], ["give", "them"],
        ["with"], ["add", "in"], ["ajoute"], ["añade"], ["agrega"], ["füge"],
    ]
    static let removeVerbs: [[String]] = [
        ["remove"], ["without"], ["get", "rid", "of"], ["take", "out"], ["take", "away"], ["lose"], ["drop"], ["no", "more"],
        ["delete"], ["erase"], ["enlève"], ["quita"], ["entferne"],
    ]
}

/// A request split into words, each with a key for matching: lower case, curly apostrophes straight,
/// trailing punctuation off. The text that comes back keeps the user's own spelling and capitals.
struct Words: Equatable {
    var words: [String]
    var keys: [String]

    init(_ text: String) {
        var split: [String] = []
        for word in text.split(whereSeparator: { $0.isWhitespace }) {
            // French elision: "d'un chat" matches "d'" then "un".
            let lower = word.lowercased().replacingOccurrences(of: "’", with: "'")
            if lower.hasPrefix("d'") && lower.count > 2 {
                split.append(String(word.prefix(2)))
                split.append(String(word.dropFirst(2)))
            } else {
                split.append(String(word))
            }
        }
        words = split
        keys = split.map(Self.key)
    }

    private init(words: [String], keys: [String]) {
        self.words = words
        self.keys = keys
    }

    static let punctuation = CharacterSet(charactersIn: ",.!?;:…\"“”«»()[]¿¡")

    static func key(_ word: String) -> String {
        word.lowercased().replacingOccurrences(of: "’", with: "'").trimmingCharacters(in: punctuation)
    }

    static func trailingPunctuation(of word: String) -> String {
        String(word.reversed().prefix { $0.unicodeScalars.allSatisfy(punctuation.contains) }.reversed())
    }

    static func find(_ needle: [String], in haystack: [String]) -> Int? {
        guard !needle.isEmpty, needle.count <= haystack.count else { return nil }
        for i in 0...(haystack.count - needle.count) where Array(haystack[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    var isEmpty: Bool { words.isEmpty }
    var lastWord: String? { keys.last }

    /// The words joined, without the punctuation around the whole (a comma inside stays).
    var text: String {
        words.joined(separator: " ").trimmingCharacters(in: Self.punctuation.union(.whitespaces))
    }

    var startsWithIndefiniteArticle: Bool {
        guard startsWith(CaptionExtractor.indefinite) else { return false }
        // "a bit darker", "a little brighter", "one more" are changes, not new descriptions.
        return !(keys.count > 1 && ["bit", "little", "lot", "tad", "more"].contains(keys[1]))
    }

    func startsWith(_ phrases: [[String]]) -> Bool {
        phrases.contains { $0.count <= keys.count && Array(keys.prefix($0.count)) == $0 }
    }

    func matchesWhole(_ phrases: [[String]]) -> Bool { phrases.contains { $0 == keys } }

    func droppingLast() -> Words { Words(words: Array(words.dropLast()), keys: Array(keys.dropLast())) }

    func replacingWord(_ key: String, with replacement: String) -> Words {
        var copy = self
        for i in copy.keys.indices where copy.keys[i] == key {
            copy.words[i] = replacement
            copy.keys[i] = replacement
        }
        return copy
    }

    /// "a purple version" → "purple", "a green one" → "green".
    func strippingVersion() -> Words {
        guard keys.count >= 2, ["version", "one", "variant"].contains(keys.last!) else { return self }
        var copy = droppingLast()
        copy.stripLeading(CaptionExtractor.indefinite, requirePunctuation: false)
        return copy.isEmpty ? self : copy
    }

    /// Drops the longest of `phrases` found at the start, as many times as one matches; true if any did.
    /// With `requirePunctuation`, a phrase only goes when its last word is followed by punctuation
    /// ("no," but not "no clouds").
    @discardableResult
    mutating func stripLeading(_ phrases: [[String]], requirePunctuation: Bool) -> Bool {
        var stripped = false
        while true {
            let match = phrases.filter { phrase in
                guard phrase.count <= keys.count, Array(keys.prefix(phrase.count)) == phrase else { return false }
                if requirePunctuation {
                    return !Self.trailingPunctuation(of: words[phrase.count - 1]).isEmpty
                }
                return true
            }.max { $0.count < $1.count }
            guard let match else { return stripped }
            words.removeFirst(match.count)
            keys.removeFirst(match.count)
            stripped = true
        }
    }

    @discardableResult
    mutating func stripTrailing(_ phrases: [[String]]) -> Bool {
        var stripped = false
        while let match = phrases.filter({ $0.count <= keys.count && Array(keys.suffix($0.count)) == $0 }).max(by: { $0.count < $1.count }) {
            words.removeLast(match.count)
            keys.removeLast(match.count)
            stripped = true
        }
        return stripped
    }

    /// Trailing "please", "thanks", "for me", "por favor" (punctuation goes with `text`).
    mutating func stripTrailingNoise() {
        stripTrailing([["please"], ["pls"], ["plz"], ["thanks"], ["thank", "you"], ["for", "me"], ["for", "me", "please"],
                       ["por", "favor"], ["bitte"], ["s'il", "te", "plaît"], ["s'il", "vous", "plaît"], ["thx"], ["now"]])
        // A comma left on the new last word ("draw a cat, please").
        if let last = words.last {
            words[words.count - 1] = last.trimmingCharacters(in: Self.punctuation)
            if words[words.count - 1].isEmpty { words.removeLast(); keys.removeLast() }
        }
    }

    /// Drops "draw (me) (a picture of)" and its kin; true when a request verb or artefact was there.
    mutating func stripRequest() -> Bool {
        var found = false
        if stripLeading(CaptionExtractor.requestVerbs, requirePunctuation: false) {
            found = true
            stripLeading(CaptionExtractor.recipients, requirePunctuation: false)
        }
        // "(a) (quick) picture of", "une image de", "ein Bild von".
        var probe = self
        probe.stripLeading(CaptionExtractor.indefinite, requirePunctuation: false)
        while let first = probe.keys.first, CaptionExtractor.artefactAdjectives.contains(first) {
            probe.stripLeading([[first]], requirePunctuation: false)
        }
        if let first = probe.keys.first, CaptionExtractor.artefacts.contains(first) {
            probe.stripLeading([[first]], requirePunctuation: false)
            if probe.stripLeading(CaptionExtractor.artefactLinks, requirePunctuation: false) || probe.isEmpty {
                self = probe
                found = true
            }
        }
        return found
    }

    /// The words before and after the first of `separators` (single words), both non-empty.
    func split(atAnyOf separators: Set<String>) -> (before: Words, after: Words)? {
        guard let i = keys.firstIndex(where: separators.contains), i > 0, i < keys.count - 1 else { return nil }
        return (Words(words: Array(words[..<i]), keys: Array(keys[..<i])),
                Words(words: Array(words[(i + 1)...]), keys: Array(keys[(i + 1)...])))
    }

    func split(atPhrase phrase: [String]) -> (before: Words, after: Words)? {
        guard let i = Self.find(phrase, in: keys), i > 0, i + phrase.count < keys.count else { return nil }
        let j = i + phrase.count
        return (Words(words: Array(words[..<i]), keys: Array(keys[..<i])),
                Words(words: Array(words[j...]), keys: Array(keys[j...])))
    }
}
