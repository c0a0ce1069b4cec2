// Tokenizer protocol and errors for Easel's LLaMA engine.
// Behaviour follows llama.cpp's src/llama-vocab.cpp (vendored by llama-cpp-python 0.3.36), so that a prompt
// tokenised here gives the same ids that llama.cpp feeds the same GGUF model.
import WeightIO

/// Text ↔ token ids for one model's vocabulary.
///
/// `encode` is `llama_tokenize(text, add_special, parse_special)`; `decode` is `llama_detokenize`;
/// `pieceBytes` is `llama_token_to_piece`. Pieces are bytes, not `String`, because one byte-fallback or
/// byte-level token can hold part of a UTF-8 sequence: `TokenDecoder` joins them back into text.
public protocol Tokenizer: Sendable {
    /// Number of token ids; every id the tokenizer emits is in `0..<vocabularySize`.
    var vocabularySize: Int { get }
    /// Beginning-of-sequence id (`tokenizer.ggml.bos_token_id`), if the vocabulary has one.
    var bosID: Int? { get }
    /// End-of-sequence id (`tokenizer.ggml.eos_token_id`).
    var eosID: Int? { get }
    /// End-of-turn id (`tokenizer.ggml.eot_token_id`, or found by name as llama.cpp does: `<|im_end|>`, `<|eot_id|>` …).
    var eotID: Int? { get }

    /// Splits `text` into token ids.
    /// - Parameters:
    ///   - addSpecial: add BOS/EOS as the vocabulary asks (`tokenizer.ggml.add_bos_token` …).
    ///   - parseSpecial: let control tokens such as `<|im_start|>` written in the text become their ids;
    ///     when false they are tokenised as plain text. User-defined tokens are always matched, as in llama.cpp.
    func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int]

    /// The bytes token `id` stands for. Control and unknown tokens give their text only when `renderSpecial`
    /// is true, and nothing otherwise. An id outside the vocabulary gives no bytes.
    func pieceBytes(_ id: Int, renderSpecial: Bool) -> [UInt8]

    /// Joins the pieces of `ids` into text, as `llama_detokenize(tokens, remove_special, unparse_special)`:
    /// `removeSpecial` drops a leading BOS and trailing EOS that the vocabulary adds itself; `renderSpecial`
    /// writes control tokens out. Bytes that are not valid UTF-8 become U+FFFD.
    func decode(_ ids: [Int], removeSpecial: Bool, renderSpecial: Bool) -> String

    /// True for every token that ends generation (EOS, EOT and the other end tokens llama.cpp recognises).
    func isEndOfGeneration(_ id: Int) -> Bool

    /// All ids `isEndOfGeneration` accepts: the stop set for generation.
    var endOfGenerationIDs: Set<Int> { get }
}

extension Tokenizer {
    /// Text of one token with special tokens written out, like llama.cpp's `token_to_piece` cache.
    public func piece(_ id: Int) -> String {
        String(decoding: pieceBytes(id, renderSpecial: true), as: UTF8.self)
    }

    /// Plain text of `ids`: special tokens are not written out.
    public func decode(_ ids: [Int]) -> String {
        decode(ids, removeSpecial: false, renderSpecial: false)
    }

    /// Ids of `text` with the vocabulary's own BOS/EOS, special tokens in the text recognised.
    public func encode(_ text: String) -> [Int] {
        encode(text, addSpecial: true, parseSpecial: true)
    }
}

/// Every way a vocabulary can be unusable. Each case says which field is wrong and how.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    case unsupportedModel(String)
    case unsupportedPreTokenizer(String)
    case emptyVocabulary
    case countMismatch(field: String, expected: Int, found: Int)
    case duplicateToken(text: String, firstID: Int, secondID: Int)
    case missingField(String)
    case invalidField(field: String, reason: String)

    public var description: String {
        switch self {
        case .unsupportedModel(let m):
            "tokenizer model '\(m)' is not supported (Easel reads 'llama' SentencePiece and 'gpt2' byte-level BPE)"
        case .unsupportedPreTokenizer(let p):
            "pre-tokenizer '\(p)' is not supported (Easel reads the GPT-2, SmolLM, LLaMA-3 and default splits: 'smollm', 'llama-bpe', 'gpt-2', 'default' and their aliases)"
        case .emptyVocabulary:
            "the vocabulary has no tokens"
        case .countMismatch(let f, let e, let s):
            "\(f) has \(s) entries but the vocabulary has \(e) tokens"
        case .duplicateToken(let t, let a, let b):
            "token text '\(t)' appears twice, as ids \(a) and \(b)"
        case .missingField(let f):
            "required field '\(f)' is missing"
        case .invalidField(let f, let r):
            "field '\(f)' is invalid: \(r)"
        }
    }
}

/// Builds the tokenizer a vocabulary asks for: SentencePiece BPE for `llama`, byte-level BPE for `gpt2`.
public func makeTokenizer(_ vocabulary: GGUFVocabulary) throws -> any Tokenizer {
    switch vocabulary.model {
    case "llama": try SentencePieceBPE(vocabulary)
    case "gpt2": try ByteLevelBPE(vocabulary)
    default: throw TokenizerError.unsupportedModel(vocabulary.model)
    }
}

/// The tokenizer of a GGUF model file.
public func makeTokenizer(gguf: GGUFFile) throws -> any Tokenizer {
    try makeTokenizer(GGUFVocabulary(gguf: gguf))
}
