// SentencePiece BPE with byte fallback (`tokenizer.ggml.model = "llama"`): LLaMA-1/2, Mistral, TinyLlama.
// Port of llama.cpp's `llm_tokenizer_spm_session` and the SPM branch of `llama_vocab::impl::tokenize`
// (src/llama-vocab.cpp, llama-cpp-python 0.3.36).

public final class SentencePieceBPE: VocabularyTokenizer {
    let vocabulary: TokenVocabulary
    /// Byte-fallback token for each byte: `<0xXX>`, else the one-byte token, else unknown.
    private let byteTokens: [Int?]

    /// "▁" (U+2581), SentencePiece's visible space.
    static let spaceMarker: [UInt8] = [0xE2, 0x96, 0x81]

    public init(_ v: GGUFVocabulary) throws {
        guard v.model == "llama" else { throw TokenizerError.unsupportedModel(v.model) }
        let vocabulary = try TokenVocabulary(v, kind: .sentencePiece, addBOSDefault: true, cleanSpaces: false,
                                             decodeNormal: SentencePieceBPE.unescapeSpaces)
        self.vocabulary = vocabulary
        byteTokens = (0..<256).map { b in
            let hex = String(b, radix: 16, uppercase: true)
            return vocabulary.ids[Array("<0x\(b < 16 ? "0" : "")\(hex)>".utf8)] ?? vocabulary.ids[[UInt8(b)]]
                ?? vocabulary.unknownID
        }
    }

    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int] {
        let bytes = Array(text.utf8)
        var output: [Int] = []
        if addSpecial && vocabulary.addBOS, let bos = vocabulary.bosID { output.append(bos) }
        // A text fragment at the start or right after a special token gets the leading space SentencePiece
        // models were trained with, even when no BOS is added.
        var previousWasSpecial = true
        for fragment in vocabulary.partition(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                output.append(id)
                previousWasSpecial = true
            case .text(let range):
                var piece: [UInt8] = vocabulary.addSpacePrefix && previousWasSpecial ? [UInt8(ascii: " ")] : []
                piece.append(contentsOf: bytes[range])
                encodeText(Self.escapeSpaces(piece), into: &output)
                previousWasSpecial = false
            }
        }
        if addSpecial && vocabulary.addEOS, let eos = vocabulary.eosID { output.append(eos) }
        return output
    }

    /// Merges characters by score: always the adjacent pair whose joined text is the best-scoring token
    /// (leftmost on ties), until no adjacent pair forms a token.
    private func encodeText(_ text: [UInt8], into output: inout [Int]) {
        var symbols = SymbolList(utf8: text)
        var queue = BinaryHeap<Bigram> { a, b in a.score > b.score || (a.score == b.score && a.left < b.left) }
        func add(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let joined = symbols.nodes[left].start..<(symbols.nodes[right].start + symbols.nodes[right].length)
            guard let id = vocabulary.ids[Array(text[joined])] else { return }
            queue.push(Bigram(score: vocabulary.scores[id], left: left, right: right, size: joined.count))
        }
        for i in symbols.nodes.indices.dropFirst() { add(i - 1, i) }
        while let b = queue.pop() {
            guard symbols.nodes[b.left].length > 0, symbols.nodes[b.right].length > 0,
                  symbols.nodes[b.left].length + symbols.nodes[b.right].length == b.size else { continue }
            symbols.merge(b.left, b.right)
            add(symbols.nodes[b.left].previous, b.left)
            add(b.left, symbols.nodes[b.left].next)
        }
        for range in symbols.alive {
            if let id = vocabulary.ids[Array(text[range])] {
                output.append(id)
            } else {
                // Byte fallback. llama.cpp throws when a byte has no token at all; here such a byte becomes
                // the unknown token, or is dropped when the vocabulary has none.
                for byte in text[range] { if let id = byteTokens[Int(byte)] { output.append(id) } }
            }
        }
    }

    private struct Bigram {
        var score: Float
        var left: Int
        var right: Int
        var size: Int
    }

    /// Spaces become "▁" before merging (`llama_escape_whitespace`).
    static func escapeSpaces(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        for b in text {
            if b == UInt8(ascii: " ") { out.append(contentsOf: spaceMarker) } else { out.append(b) }
        }
        return out
    }

    /// "▁" becomes a space again when decoding (`llama_unescape_whitespace`).
    static func unescapeSpaces(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            if i + 3 <= text.count && text[i] == 0xE2 && text[i + 1] == 0x96 && text[i + 2] == 0x81 {
                out.append(UInt8(ascii: " "))
                i += 3
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }
}
