/// Every way the router's inputs can be wrong. Each case names the file (and line) and the problem.
public enum RouterError: Error, CustomStringConvertible, Equatable {
    case cannotRead(path: String, reason: String)
    case malformedLine(file: String, line: Int, reason: String)
    case emptyCorpus(path: String, reason: String)
    case malformedModel(path: String, reason: String)
    case notFound(tried: [String])
    case invalidSetting(name: String, reason: String)

    public var description: String {
        switch self {
        case .cannotRead(let p, let r): "cannot read \(p): \(r)"
        case .malformedLine(let f, let l, let r): "\(f):\(l): \(r)"
        case .emptyCorpus(let p, let r): "router corpus \(p): \(r)"
        case .malformedModel(let p, let r): "router model \(p): \(r)"
        case .notFound(let tried):
            "no router corpus or model found; looked at:\n  " + tried.joined(separator: "\n  ")
                + "\nset EASEL_ROUTER_CORPUS to the router-corpus/ folder or EASEL_ROUTER_MODEL to a saved model"
        case .invalidSetting(let n, let r): "router setting \(n): \(r)"
        }
    }
}
