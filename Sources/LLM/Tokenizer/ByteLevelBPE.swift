// Byte-level BPE (`tokenizer.ggml.model = "gpt2"`): SmolLM2, LLaMA-3, GPT-2. Port of llama.cpp's
// `llm_tokenizer_bpe_session` and `llama_decode_text` (src/llama-vocab.cpp, llama-cpp-python 0.3.36).

public final class ByteLevelBPE: VocabularyTokenizer {
    let vocabulary: TokenVocabulary
    let configuration: PreTokenizer.Configuration
    /// Merge rank by pair, lowest rank merges first (`bpe_ranks`).
    private let ranks: [MergePair: Int]

    struct MergePair: Hashable {
        var left: [UInt8]
        var right: [UInt8]
    }

    public init(_ v: GGUFVocabulary) throws {
        guard v.model == "gpt2" else { throw TokenizerError.unsupportedModel(v.model) }
        guard let configuration = PreTokenizer.configuration(named: v.preTokenizer) else {
            throw TokenizerError.unsupportedPreTokenizer(v.preTokenizer ?? "")
        }
        guard let merges = v.merges else { throw TokenizerError.missingField("tokenizer.ggml.merges") }
        self.configuration = configuration
        vocabulary = try TokenVocabulary(v, kind: .byteLevel, addBOSDefault: configuration.addBOS,
                                         cleanSpaces: configuration.cleanSpaces, decodeNormal: ByteLevel.decode)
        var ranks = [MergePair: Int](minimumCapacity: merges.count)
        for (rank, merge) in merges.enumerated() {
            // "left right", split at the first space after the first byte, so a left part may start with one.
            let bytes = Array(merge.utf8)
            guard bytes.count > 1, let space = bytes[1...].firstIndex(of: UInt8(ascii: " ")) else {
                throw TokenizerError.invalidField(field: "tokenizer.ggml.merges",
                                                  reason: "merge \(rank) '\(merge)' is not two parts separated by a space")
            }
            let pair = MergePair(left: Array(bytes[..<space]), right: Array(bytes[(space + 1)...]))
            if ranks[pair] == nil { ranks[pair] = rank }  // the first rank wins, as std::unordered_map::emplace
        }
        self.ranks = ranks
    }

    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int] {
        let bytes = Array(text.utf8)
        var output: [Int] = []
        if addSpecial && vocabulary.addBOS, let bos = vocabulary.bosID { output.append(bos) }
        for fragment in vocabulary.partition(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id): output.append(id)
            case .text(let range): encodeText(bytes[range], into: &output)
            }
        }
        if addSpecial && vocabulary.addEOS, let eos = vocabulary.eosID { output.append(eos) }
        return output
    }

    /// Pre-tokenises, maps each word's bytes to GPT-2's printable characters, and merges within each word.
    private func encodeText(_ bytes: ArraySlice<UInt8>, into output: inout [Int]) {
        // Fragments start and end on code point boundaries: special tokens are whole UTF-8 strings.
        let cpts = String(decoding: bytes, as: UTF8.self).unicodeScalars.map(\.value)
        var start = 0
        for length in configuration.split.split(cpts) {
            var word: [UInt8] = []
            for cpt in cpts[start..<(start + length)] {
                for byte in String(Unicode.Scalar(cpt)!).utf8 { word.append(contentsOf: ByteLevel.encoded[Int(byte)]) }
            }
            start += length
            encodeWord(word, into: &output)
        }
    }

    private func encodeWord(_ word: [UInt8], into output: inout [Int]) {
        if configuration.ignoreMerges, let id = vocabulary.ids[word] {
            output.append(id)
            return
        }
        for symbol in merge(word) {
            let text = Array(word[symbol])
            if let id = vocabulary.ids[text] {
                output.append(id)
            } else {
                // A symbol the vocabulary lacks: llama.cpp looks each of its bytes up as a one-byte token and
                // drops those that are not tokens (in byte-level vocabularies only ASCII ones are).
                for byte in text { if let id = vocabulary.ids[[byte]] { output.append(id) } }
            }
        }
    }

    /// Repeatedly merges the adjacent pair with the lowest rank (leftmost first on ties); returns the
    /// surviving symbols as byte ranges of `word`.
    private func merge(_ word: [UInt8]) -> [Range<Int>] {
        var symbols = SymbolList(utf8: word)
        var queue = BinaryHeap<Bigram> { ($0.rank, $0.left) < ($1.rank, $1.left) }
        func add(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let pair = MergePair(left: Array(word[symbols.range(left)]), right: Array(word[symbols.range(right)]))
            guard let rank = ranks[pair] else { return }
            queue.push(Bigram(rank: rank, left: left, right: right, size: pair.left.count + pair.right.count))
        }
        for i in symbols.nodes.indices.dropFirst() { add(i - 1, i) }
        while let b = queue.pop() {
            // Skip pairs that an earlier merge changed.
            guard symbols.nodes[b.left].length > 0, symbols.nodes[b.right].length > 0,
                  symbols.nodes[b.left].length + symbols.nodes[b.right].length == b.size else { continue }
            symbols.merge(b.left, b.right)
            add(symbols.nodes[b.left].previous, b.left)
            add(b.left, symbols.nodes[b.left].next)
        }
        return symbols.alive
    }

    private struct Bigram {
        var rank: Int
        var left: Int
        var right: Int
        var size: Int
    }
}

/// GPT-2's byte ↔ character map: printable Latin-1 bytes stand for themselves, the other 68 bytes for
/// U+0100 onwards in byte order, so every byte string becomes printable text without spaces.
enum ByteLevel {
    /// UTF-8 of the character standing for each byte.
    static let encoded: [[UInt8]] = {
        var next: UInt32 = 256
        return (0..<256).map { b -> [UInt8] in
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            let cpt: UInt32
            if printable { cpt = UInt32(b) } else { cpt = next; next += 1 }
            return Array(String(Unicode.Scalar(cpt)!).utf8)
        }
    }()

    static let byteOf: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for b in 0..<256 {
            let cpt = String(decoding: encoded[b], as: UTF8.self).unicodeScalars.first!.value
            map[cpt] = UInt8(b)
        }
        return map
    }()

    /// `llama_decode_text`: characters back to bytes. A character outside the map becomes llama.cpp's
    /// "[UNK_BYTE_0x…]" marker, which carries the hex of the character and the whole token text.
    static func decode(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for scalar in String(decoding: text, as: UTF8.self).unicodeScalars {
            if let b = byteOf[scalar.value] {
                out.append(b)
            } else {
                let hex = String(scalar).utf8.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
                out.append(contentsOf: Array("[UNK_BYTE_0x\(hex)".utf8) + text + [UInt8(ascii: "]")])
            }
        }
        return out
    }
}

/// The doubly linked list of symbols both BPE merges work on (llama.cpp's `llm_symbol`): symbol i starts
/// at a fixed byte offset, merging grows the left symbol and empties the right one.
struct SymbolList {
    struct Node {
        var start: Int
        var length: Int
        var previous: Int
        var next: Int
    }
    var nodes: [Node] = []

    /// One symbol per UTF-8 character; a truncated last character keeps the bytes that are there.
    init(utf8 text: [UInt8]) {
        var offset = 0
        while offset < text.count {
            let length = min(Self.utf8Length(lead: text[offset]), text.count - offset)
            nodes.append(Node(start: offset, length: length, previous: nodes.count - 1,
                              next: offset + length == text.count ? -1 : nodes.count + 1))
            offset += length
        }
    }

    /// Sequence length from the lead byte's high nibble, as llama.cpp's `unicode_len_utf8`.
    static func utf8Length(lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xC, 0xD: 2
        case 0xE: 3
        case 0xF: 4
        default: 1
        }
    }

    func range(_ i: Int) -> Range<Int> { nodes[i].start..<(nodes[i].start + nodes[i].length) }

    mutating func merge(_ left: Int, _ right: Int) {
        nodes[left].length += nodes[right].length
        nodes[right].length = 0
        nodes[left].next = nodes[right].next
        if nodes[right].next >= 0 { nodes[nodes[right].next].previous = left }
    }

    /// Surviving symbols in text order.
    var alive: [Range<Int>] {
        var out: [Range<Int>] = []
        var i = nodes.isEmpty ? -1 : 0
        while i != -1 {
            if nodes[i].length > 0 { out.append(range(i)) }
            i = nodes[i].next
        }
        return out
    }
}

/// A binary min-heap under `areInIncreasingOrder`, for the merge queues.
struct BinaryHeap<Element> {
    private var items: [Element] = []
    private let less: (Element, Element) -> Bool

    init(_ areInIncreasingOrder: @escaping (Element, Element) -> Bool) { less = areInIncreasingOrder }

    mutating func push(_ e: Element) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && less(items[l], items[m]) { m = l }
            if r < items.count && less(items[r], items[m]) { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
}
