// The tokenizer half of a GGUF file's metadata (the `tokenizer.*` keys of the GGUF spec), as a plain value.
// Tokenizers are built from this value, never from the file reader, so they can also be built from an
// HF tokenizer.json (see `GGUFVocabulary(tokenizerJSON:)`) or by hand in tests.

/// `tokenizer.ggml.token_type` values, numbered as in the GGUF spec and llama.cpp's `llama_token_type`.
public enum TokenType: Int32, Sendable {
    case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

public struct GGUFVocabulary: Sendable, Equatable {
    /// `tokenizer.ggml.model`: `llama` (SentencePiece) or `gpt2` (byte-level BPE).
    public var model: String
    /// `tokenizer.ggml.pre`: which pre-tokenizer splits text before BPE (`smollm`, `llama-bpe`, `default` …).
    public var preTokenizer: String?
    /// `tokenizer.ggml.tokens`, indexed by id.
    public var tokens: [String]
    /// `tokenizer.ggml.scores`: SentencePiece merge priority, higher merges first. Absent means all 0.
    public var scores: [Float]?
    /// `tokenizer.ggml.token_type` as raw GGUF integers (see `TokenType`). Absent means all normal.
    public var tokenTypes: [Int32]?
    /// `tokenizer.ggml.merges`: BPE merges "left right", earliest first.
    public var merges: [String]?
    public var bosID: Int?
    public var eosID: Int?
    public var eotID: Int?
    public var eomID: Int?
    public var unknownID: Int?
    public var separatorID: Int?
    public var paddingID: Int?
    /// `tokenizer.ggml.add_bos_token` / `add_eos_token`; absent means the model type's default.
    public var addBOS: Bool?
    public var addEOS: Bool?
    /// `tokenizer.ggml.add_space_prefix`; absent means true for `llama`, false for `gpt2`.
    public var addSpacePrefix: Bool?
    /// `tokenizer.chat_template`, the Jinja template a chat model was trained with.
    public var chatTemplate: String?

    public init(model: String, preTokenizer: String? = nil, tokens: [String], scores: [Float]? = nil,
                tokenTypes: [Int32]? = nil, merges: [String]? = nil, bosID: Int? = nil, eosID: Int? = nil,
                eotID: Int? = nil, eomID: Int? = nil, unknownID: Int? = nil, separatorID: Int? = nil,
                paddingID: Int? = nil, addBOS: Bool? = nil, addEOS: Bool? = nil, addSpacePrefix: Bool? = nil,
                chatTemplate: String? = nil) {
        self.model = model
        self.preTokenizer = preTokenizer
        self.tokens = tokens
        self.scores = scores
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.bosID = bosID
        self.eosID = eosID
        self.eotID = eotID
        self.eomID = eomID
        self.unknownID = unknownID
        self.separatorID = separatorID
        self.paddingID = paddingID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.chatTemplate = chatTemplate
    }
}
