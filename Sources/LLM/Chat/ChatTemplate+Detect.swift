// Which template a model's Jinja `tokenizer.chat_template` is, by substring checks in the manner of
// llama.cpp's `llm_chat_detect_template` (src/llama-chat.cpp), restricted to the three Easel renders.

extension ChatTemplate {
    /// The template `jinja` implements, or nil when it is none of the three.
    public init?(jinja: String) {
        if jinja.contains("<|im_start|>") {
            // Phi-4 (<|im_sep|>) and SmolVLM (<end_of_utterance>) use ChatML markers in other layouts.
            if jinja.contains("<|im_sep|>") || jinja.contains("<end_of_utterance>") { return nil }
            self = .chatML                                          // SmolLM2, Qwen, Hermes
        } else if jinja.contains("<|start_header_id|>") && jinja.contains("<|end_header_id|>") {
            self = .llama3                                          // Llama 3.x Instruct
        } else if jinja.contains("[INST]") && jinja.contains("<<SYS>>") {
            self = .llama2                                          // Llama-2-chat; Mistral's [INST] has no <<SYS>>
        } else {
            return nil
        }
    }

    /// An explicit choice by name (`--chat-template`), accepting the spellings people use.
    public init(name: String) throws {
        switch name.lowercased() {
        case "chatml", "chat-ml", "smollm", "smollm2": self = .chatML
        case "llama2", "llama-2", "llama2-chat": self = .llama2
        case "llama3", "llama-3", "llama3-instruct": self = .llama3
        default: throw ChatTemplateError.unknownTemplateName(name)
        }
    }

    /// The system prompt a ChatML Jinja template inserts when the conversation has none, as SmolLM2's does:
    /// `{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are … <|im_end|>\n' }}`.
    /// Returns nil for templates without such a literal.
    public static func injectedSystemPrompt(in jinja: String) -> String? {
        guard jinja.contains("messages[0]['role'] != 'system'") || jinja.contains("messages[0].role != 'system'") else { return nil }
        for opener in ["<|im_start|>system\n", "<|im_start|>system\\n"] {
            guard let start = jinja.firstRange(of: opener),
                  let end = jinja[start.upperBound...].firstRange(of: "<|im_end|>") else { continue }
            let text = String(jinja[start.upperBound..<end.lowerBound])
            // A Jinja expression here (`' + message['content'] + '`) means this is the general role line.
            if text.contains("'") || text.contains("{{") { continue }
            return text.replacing("\\n", with: "\n")
        }
        return nil
    }
}
