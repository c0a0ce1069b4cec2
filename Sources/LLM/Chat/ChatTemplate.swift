// Chat templates as Swift renderers, each equal (checked by ChatTemplateTests against jinja2 renders made by
// tools/make_chat_fixtures.py) to the Jinja template its model ships:
//   chatML  SmolLM2-Instruct's `tokenizer.chat_template` (ChatML, as in Qwen)
//   llama2  Llama-2-chat's template (`[INST] <<SYS>> … <</SYS>> … [/INST]`)
//   llama3  Llama-3-Instruct's template (`<|start_header_id|>role<|end_header_id|>`)

public enum ChatTemplate: String, CaseIterable, Sendable {
    case chatML = "chatml"
    case llama2 = "llama2"
    case llama3 = "llama3"

    /// Text of the prompt for `messages`.
    /// - Parameters:
    ///   - addGenerationPrompt: end with the header that opens the assistant's reply. Llama-2's template
    ///     has none: its prompt already ends in `[/INST]` after the last user message.
    ///   - defaultSystemPrompt: used when `messages` does not start with a system message. SmolLM2's
    ///     template carries one (see `ChatTemplate.injectedSystemPrompt(in:)`).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true,
                       defaultSystemPrompt: String? = nil) throws -> String {
        var messages = messages
        if let system = defaultSystemPrompt, !messages.isEmpty, messages[0].role != .system {
            messages.insert(ChatMessage(role: .system, content: system), at: 0)
        }
        switch self {
        case .chatML: return Self.renderChatML(messages, addGenerationPrompt: addGenerationPrompt)
        case .llama2: return try Self.renderLlama2(messages)
        case .llama3: return Self.renderLlama3(messages, addGenerationPrompt: addGenerationPrompt)
        }
    }

    /// Whether the rendered text starts with the BOS token's text, so that encoding must not add another.
    public var writesBOS: Bool {
        switch self {
        case .chatML: false
        case .llama2, .llama3: true
        }
    }

    /// Renders `messages` and tokenises the text with special tokens parsed; BOS is added only where the
    /// template does not write it itself (as llama.cpp's chat examples do).
    public func encode(_ messages: [ChatMessage], tokenizer: any Tokenizer, addGenerationPrompt: Bool = true,
                       defaultSystemPrompt: String? = nil) throws -> [Int] {
        let text = try render(messages, addGenerationPrompt: addGenerationPrompt, defaultSystemPrompt: defaultSystemPrompt)
        return tokenizer.encode(text, addSpecial: !writesBOS, parseSpecial: true)
    }

    // MARK: Renderers

    /// `<|im_start|>{role}\n{content}<|im_end|>\n` per message, then `<|im_start|>assistant\n`.
    private static func renderChatML(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var out = ""
        for m in messages { out += "<|im_start|>\(m.role.rawValue)\n\(m.content)<|im_end|>\n" }
        if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        return out
    }

    /// `<s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s>` …, with the template's
    /// rules: the system text goes into the first user turn, each turn's content is stripped of
    /// surrounding whitespace (Python `str.strip`), and turns must alternate user/assistant.
    private static func renderLlama2(_ messages: [ChatMessage]) throws -> String {
        var turns = messages[...]
        var system: String?
        if let first = turns.first, first.role == .system {
            system = first.content
            turns = turns.dropFirst()
        }
        var out = ""
        for (i, m) in turns.enumerated() {
            // A system message after the first slips through the template unrendered at odd positions and
            // breaks alternation at even ones, exactly as `(role == 'user') != (index0 % 2 == 0)` says.
            if (m.role == .user) != (i % 2 == 0) {
                throw ChatTemplateError.rolesMustAlternate(template: .llama2, index: i + (system == nil ? 0 : 1))
            }
            var content = m.content
            if i == 0, let system { content = "<<SYS>>\n\(system)\n<</SYS>>\n\n" + content }
            switch m.role {
            case .user: out += "<s>[INST] \(pythonStrip(content)) [/INST]"
            case .assistant: out += " \(pythonStrip(content)) </s>"
            case .system: break
            }
        }
        return out
    }

    /// `<|begin_of_text|>` then `<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>` per
    /// message (content stripped), then the assistant header.
    private static func renderLlama3(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var out = messages.isEmpty ? "" : "<|begin_of_text|>"
        for m in messages {
            out += "<|start_header_id|>\(m.role.rawValue)<|end_header_id|>\n\n\(pythonStrip(m.content))<|eot_id|>"
        }
        if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        return out
    }

    /// Python's `str.strip()`, which Jinja's `trim` filter and the templates' `.strip()` call: it removes
    /// the Unicode White_Space characters and also U+001C…U+001F, which Python counts as space.
    static func pythonStrip(_ s: String) -> String {
        func isSpace(_ u: Unicode.Scalar) -> Bool { u.properties.isWhitespace || (0x1C...0x1F).contains(u.value) }
        let scalars = s.unicodeScalars
        guard let start = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = scalars.lastIndex(where: { !isSpace($0) })!
        return String(scalars[start...end])
    }
}

public enum ChatTemplateError: Error, CustomStringConvertible, Equatable {
    case rolesMustAlternate(template: ChatTemplate, index: Int)
    case unknownTemplateName(String)
    case unrecognizedTemplate
    case promptTooLong(tokens: Int, limit: Int)

    public var description: String {
        switch self {
        case .rolesMustAlternate(let t, let i):
            "the \(t.rawValue) template needs turns alternating user/assistant after an optional system message; message \(i) breaks that"
        case .unknownTemplateName(let n):
            "unknown chat template '\(n)' (known: \(ChatTemplate.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .unrecognizedTemplate:
            "the model's chat template is not one Easel renders (ChatML, Llama-2, Llama-3); choose one by name with --chat-template"
        case .promptTooLong(let n, let limit):
            "the system prompt and the latest user message alone take \(n) tokens, more than the \(limit) the context allows; shorten the message"
        }
    }
}
