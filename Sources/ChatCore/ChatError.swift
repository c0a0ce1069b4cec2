/// What can go wrong in a conversation turn or a scripted run, each case naming the thing at fault.
public enum ChatError: Error, CustomStringConvertible, Equatable {
    case emptyMessage
    case messageTooLong(characters: Int, limit: Int)
    case noDrawingModel
    case nothingToDraw(request: String)
    case nothingToRedo
    case badCommand(String)
    case badScript(path: String, line: Int, reason: String)
    case output(path: String, reason: String)

    public var description: String {
        switch self {
        case .emptyMessage: "the message is empty"
        case .messageTooLong(let n, let limit): "the message is \(n) characters long; the limit is \(limit)"
        case .noDrawingModel: "no drawing model is loaded, so this turn cannot draw (start with --sd-model DIR, or use /chat)"
        case .nothingToDraw(let r): "nothing is left to draw in \"\(r)\" once the request words are removed: say what to draw"
        case .nothingToRedo: "there is no earlier picture to draw again: describe what to draw"
        case .badCommand(let m): m
        case .badScript(let path, let line, let reason): "\(path):\(line): \(reason)"
        case .output(let path, let reason): "\(path): \(reason)"
        }
    }
}
