/// Every way a weight file can be wrong. Each case names the file and what is wrong with it, so a
/// user with a truncated download or a hostile file sees which and why, never a crash.
public enum WeightIOError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(file: String, reason: String)
    case malformed(file: String, reason: String)
    case missingTensor(name: String, file: String)
    case shapeMismatch(name: String, file: String, expected: [Int], found: [Int])
    case unsupportedType(name: String, file: String, type: String)
    /// A rank-0 or rank-1 tensor (a bias, a norm weight) asked for as a matrix.
    case notAMatrix(name: String, file: String, shape: [Int])

    public var description: String {
        switch self {
        case .cannotOpen(let f, let r): "cannot open \(f): \(r)"
        case .malformed(let f, let r): "\(f): \(r)"
        case .missingTensor(let n, let f): "tensor '\(n)' not found in \(f)"
        case .shapeMismatch(let n, let f, let e, let s): "tensor '\(n)' in \(f) has shape \(s), expected \(e)"
        case .unsupportedType(let n, let f, let t): "tensor '\(n)' in \(f) has type \(t), which Easel cannot compute with"
        case .notAMatrix(let n, let f, let s): "tensor '\(n)' in \(f) has shape \(s), which is not a matrix"
        }
    }

    /// The file the error is about.
    public var file: String {
        switch self {
        case .cannotOpen(let f, _), .malformed(let f, _): f
        case .missingTensor(_, let f), .shapeMismatch(_, let f, _, _), .unsupportedType(_, let f, _),
             .notAMatrix(_, let f, _): f
        }
    }
}
