/// Turns generated ids into text as they arrive, one id at a time.
///
/// A byte-fallback or byte-level token may hold only part of a character: "🦙" is four `<0xXX>` tokens in
/// LLaMA-2 and two tokens in SmolLM2. The decoder keeps such an unfinished UTF-8 sequence until the tokens
/// that complete it arrive, so a streamed reply never shows U+FFFD halfway through a character. Bytes that
/// can never become valid UTF-8 are emitted as U+FFFD at once, as `String(decoding:as:)` would.
public struct TokenDecoder {
    public let tokenizer: any Tokenizer
    /// Write control tokens such as `<|im_end|>` out as text.
    public var renderSpecial: Bool
    /// Bytes of an unfinished character, at most 3.
    private var pending: [UInt8] = []

    public init(tokenizer: any Tokenizer, renderSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.renderSpecial = renderSpecial
    }

    /// Adds one token and returns the text it completes, which may be empty.
    public mutating func append(_ id: Int) -> String {
        append(bytes: tokenizer.pieceBytes(id, renderSpecial: renderSpecial))
    }

    /// Adds raw bytes and returns every complete character now available.
    mutating func append(bytes: [UInt8]) -> String {
        pending.append(contentsOf: bytes)
        let keep = Self.unfinishedSuffixLength(pending)
        let ready = pending[..<(pending.count - keep)]
        let text = String(decoding: ready, as: UTF8.self)
        pending.removeFirst(pending.count - keep)
        return text
    }

    /// Ends the stream: an unfinished character left over becomes U+FFFD.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// True while bytes of an unfinished character are held back.
    public var hasPendingBytes: Bool { !pending.isEmpty }

    /// Length of the trailing bytes that are a valid but incomplete UTF-8 sequence, 0 if none. Validity
    /// follows the Unicode table of well-formed sequences (no overlongs, surrogates, or values past
    /// U+10FFFF), so a prefix that can never complete is not held back.
    static func unfinishedSuffixLength(_ bytes: [UInt8]) -> Int {
        guard !bytes.isEmpty else { return 0 }
        // The lead byte of the last sequence is at most 3 bytes back.
        for back in 1...min(3, bytes.count) {
            let lead = bytes[bytes.count - back]
            if lead & 0xC0 == 0x80 { continue }  // continuation byte: look further back
            let needed: Int
            switch lead {
            case 0xC2...0xDF: needed = 2
            case 0xE0...0xEF: needed = 3
            case 0xF0...0xF4: needed = 4
            default: return 0  // ASCII or a byte that never starts a sequence
            }
            guard back < needed else { return 0 }  // the sequence is complete (or over-long: not ours to hold)
            if back >= 2 {
                // The second byte's range depends on the lead byte.
                let second = bytes[bytes.count - back + 1]
                let range: ClosedRange<UInt8> = switch lead {
                case 0xE0: 0xA0...0xBF
                case 0xED: 0x80...0x9F
                case 0xF0: 0x90...0xBF
                case 0xF4: 0x80...0x8F
                default: 0x80...0xBF
                }
                guard range.contains(second) else { return 0 }
            }
            return back
        }
        return 0
    }
}
