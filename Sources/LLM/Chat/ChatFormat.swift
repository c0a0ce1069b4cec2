/// How one model is prompted: its chat template and the system prompt used when a conversation has none.
/// This is the one value a chat session needs: it renders, encodes and trims conversations.
public struct ChatFormat: Sendable, Equatable {
    public var template: ChatTemplate
    public var defaultSystemPrompt: String?

    public init(template: ChatTemplate, defaultSystemPrompt: String? = nil) {
        self.template = template
        self.defaultSystemPrompt = defaultSystemPrompt
    }

    /// Chooses the template and system prompt for a model.
    /// - Parameters:
    ///   - jinja: the model's `tokenizer.chat_template`, if it has one.
    ///   - override: a template name the user chose (`chatml`, `llama2`, `llama3`); wins over detection.
    ///   - systemPrompt: the user's system prompt; wins over the one the template carries (SmolLM2's).
    /// - Throws: when no override is given and the model's template is none of the three, rather than
    ///   prompting the model in a format it was not trained on. A model without any template gets ChatML,
    ///   as llama.cpp does.
    public init(chatTemplate jinja: String?, override: String? = nil, systemPrompt: String? = nil) throws {
        let detected = jinja.flatMap(ChatTemplate.init(jinja:))
        if let override {
            template = try ChatTemplate(name: override)
        } else if jinja != nil {
            guard let detected else { throw ChatTemplateError.unrecognizedTemplate }
            template = detected
        } else {
            template = .chatML
        }
        // The model's own default system prompt only goes with the model's own template.
        defaultSystemPrompt = systemPrompt ?? (template == detected ? jinja.flatMap(ChatTemplate.injectedSystemPrompt(in:)) : nil)
    }

    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> String {
        try template.render(messages, addGenerationPrompt: addGenerationPrompt, defaultSystemPrompt: defaultSystemPrompt)
    }

    public func encode(_ messages: [ChatMessage], tokenizer: any Tokenizer, addGenerationPrompt: Bool = true) throws -> [Int] {
        try template.encode(messages, tokenizer: tokenizer, addGenerationPrompt: addGenerationPrompt, defaultSystemPrompt: defaultSystemPrompt)
    }

    /// The conversation trimmed from its oldest turns to fit `maxTokens` (see `ChatHistory.fitToContext`).
    public func fit(_ messages: [ChatMessage], tokenizer: any Tokenizer, maxTokens: Int) throws -> [ChatMessage] {
        try ChatHistory.fitToContext(messages, template: template, tokenizer: tokenizer, maxTokens: maxTokens,
                                     defaultSystemPrompt: defaultSystemPrompt)
    }
}
