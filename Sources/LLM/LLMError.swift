/// Errors of running a language model (as opposed to loading one: WeightIOError).
public enum LLMError: Error, CustomStringConvertible, Equatable {
    case emptyInput
    case contextOverflow(needed: Int, available: Int)
    case tokenOutOfRange(token: Int, vocabularySize: Int)
    case invalidParameter(String)

    public var description: String {
        switch self {
        case .emptyInput: "no tokens to process"
        case .contextOverflow(let n, let a): "the input needs \(n) positions but the context holds \(a)"
        case .tokenOutOfRange(let t, let v): "token id \(t) is outside the vocabulary of \(v)"
        case .invalidParameter(let why): why
        }
    }
}
