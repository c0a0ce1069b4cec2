// GGUF metadata → GGUFVocabulary, through the WeightIO reader (keys as in ggml/docs/gguf.md and llama.cpp's llama-vocab.cpp).
import WeightIO

extension GGUFVocabulary {
    /// Reads the `tokenizer.*` keys of a GGUF file. A key that is present with the wrong type is an error
    /// naming the key; a key that is absent takes the model type's default later, as in llama.cpp.
    public init(gguf: GGUFFile) throws {
        let m = gguf.metadata
        func string(_ key: String) throws -> String? {
            guard let v = m[key] else { return nil }
            guard let s = v.string else { throw TokenizerError.invalidField(field: key, reason: "expected a string, found \(v.typeName)") }
            return s
        }
        func bool(_ key: String) throws -> Bool? {
            guard let v = m[key] else { return nil }
            guard let b = v.bool else { throw TokenizerError.invalidField(field: key, reason: "expected a bool, found \(v.typeName)") }
            return b
        }
        func id(_ key: String) throws -> Int? {
            guard let v = m[key] else { return nil }
            guard let i = v.int else { throw TokenizerError.invalidField(field: key, reason: "expected an integer id, found \(v.typeName)") }
            return i
        }
        func strings(_ key: String) throws -> [String]? {
            guard let v = m[key] else { return nil }
            guard let a = v.stringArray else { throw TokenizerError.invalidField(field: key, reason: "expected an array of strings, found \(v.typeName)") }
            return a
        }
        guard let model = try string("tokenizer.ggml.model") else { throw TokenizerError.missingField("tokenizer.ggml.model") }
        guard let tokens = try strings("tokenizer.ggml.tokens") else { throw TokenizerError.missingField("tokenizer.ggml.tokens") }
        var scores: [Float]?
        if let v = m["tokenizer.ggml.scores"] {
            guard let s = v.floatArray else {
                throw TokenizerError.invalidField(field: "tokenizer.ggml.scores", reason: "expected an array of numbers, found \(v.typeName)")
            }
            scores = s
        }
        var types: [Int32]?
        if let v = m["tokenizer.ggml.token_type"] {
            guard let t = v.intArray, t.allSatisfy({ Int32(exactly: $0) != nil }) else {
                throw TokenizerError.invalidField(field: "tokenizer.ggml.token_type", reason: "expected an array of int32, found \(v.typeName)")
            }
            types = t.map { Int32($0) }
        }
        self.init(model: model,
                  preTokenizer: try string("tokenizer.ggml.pre"),
                  tokens: tokens,
                  scores: scores,
                  tokenTypes: types,
                  merges: try strings("tokenizer.ggml.merges"),
                  bosID: try id("tokenizer.ggml.bos_token_id"),
                  eosID: try id("tokenizer.ggml.eos_token_id"),
                  eotID: try id("tokenizer.ggml.eot_token_id"),
                  eomID: try id("tokenizer.ggml.eom_token_id"),
                  unknownID: try id("tokenizer.ggml.unknown_token_id"),
                  separatorID: try id("tokenizer.ggml.seperator_token_id"),  // sic: the GGUF spec's spelling
                  paddingID: try id("tokenizer.ggml.padding_token_id"),
                  addBOS: try bool("tokenizer.ggml.add_bos_token"),
                  addEOS: try bool("tokenizer.ggml.add_eos_token"),
                  addSpacePrefix: try bool("tokenizer.ggml.add_space_prefix"),
                  chatTemplate: try string("tokenizer.chat_template"))
    }
}
