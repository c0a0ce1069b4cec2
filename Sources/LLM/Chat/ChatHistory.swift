/// Keeping a multi-turn conversation inside the model's context window.
public enum ChatHistory {
    /// The longest suffix of the conversation that fits in `maxTokens`: drops whole turns from the
    /// oldest on (a user message with the replies that follow it), and always keeps the leading system
    /// message and the latest turn. Dropping whole turns keeps user/assistant alternation, which Llama-2's
    /// template requires.
    /// - Parameters:
    ///   - tokenCount: tokens the prompt for a candidate history takes (render and encode).
    ///   - maxTokens: the budget, usually the context length minus room for the reply.
    /// - Throws: `ChatTemplateError.promptTooLong` when the system message and the latest turn alone do not
    ///   fit: the caller must shorten the message (or the system prompt); nothing is cut silently.
    public static func fitToContext(_ messages: [ChatMessage], maxTokens: Int,
                                    tokenCount: ([ChatMessage]) throws -> Int) throws -> [ChatMessage] {
        let system = messages.first.map { $0.role == .system ? [$0] : [] } ?? []
        var turns = Array(messages.dropFirst(system.count))
        // The latest turn starts at the last user message.
        let lastTurnStart = turns.lastIndex { $0.role == .user } ?? max(turns.count - 1, 0)
        var droppable = lastTurnStart
        while true {
            let candidate = system + turns
            let count = try tokenCount(candidate)
            if count <= maxTokens { return candidate }
            guard droppable > 0 else { throw ChatTemplateError.promptTooLong(tokens: count, limit: maxTokens) }
            // Drop the oldest message, then anything up to the next user message.
            var n = 1
            while n < droppable && turns[n].role != .user { n += 1 }
            turns.removeFirst(n)
            droppable -= n
        }
    }

    /// `fitToContext` counting tokens with `template` and `tokenizer`, as the prompt will be encoded.
    public static func fitToContext(_ messages: [ChatMessage], template: ChatTemplate, tokenizer: any Tokenizer,
                                    maxTokens: Int, defaultSystemPrompt: String? = nil) throws -> [ChatMessage] {
        try fitToContext(messages, maxTokens: maxTokens) {
            try template.encode($0, tokenizer: tokenizer, addGenerationPrompt: true, defaultSystemPrompt: defaultSystemPrompt).count
        }
    }
}
