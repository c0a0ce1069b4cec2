import Foundation
import Tensors
import WeightIO

/// A chat model ready to talk: weights, tokenizer, chat template and the template's default system
/// prompt, loaded once. The conversation's KV cache lives in a `LlamaContext`, so consecutive turns
/// only prefill what is new.
public final class ChatModel: @unchecked Sendable {
    public let path: String
    public let model: LlamaModel
    public let tokenizer: any Tokenizer
    /// The template, and the system prompt used when a conversation has none (SmolLM2's template
    /// carries one; it applies only with the model's own template).
    public let format: ChatFormat
    public var template: ChatTemplate { format.template }
    public var defaultSystemPrompt: String? { format.defaultSystemPrompt }
    /// Every id that ends a reply: EOS, end-of-turn and the other end tokens the vocabulary marks.
    public let stopTokens: Set<Int>

    /// Opens a GGUF file or a Hugging Face folder (config.json, safetensors, tokenizer.json).
    /// `templateName` overrides the template detected from `tokenizer.chat_template`; a template Easel
    /// does not render is an error unless overridden, never silently replaced.
    public init(path: String, templateName: String? = nil, systemPrompt: String? = nil) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        let vocabulary: GGUFVocabulary
        if isDirectory.boolValue {
            model = try LlamaModel.load(path: path)
            vocabulary = try GGUFVocabulary(huggingFaceFolder: URL(fileURLWithPath: path))
        } else {
            let gguf = try GGUFFile(path: path)
            model = try LlamaModel(store: gguf, config: try LlamaConfiguration(gguf: gguf), format: .gguf)
            vocabulary = try GGUFVocabulary(gguf: gguf)
        }
        tokenizer = try makeTokenizer(vocabulary)
        guard tokenizer.vocabularySize <= model.config.vocabularySize else {
            throw WeightIOError.malformed(file: path, reason: "tokenizer has \(tokenizer.vocabularySize) tokens, the model only \(model.config.vocabularySize)")
        }
        format = try ChatFormat(chatTemplate: vocabulary.chatTemplate, override: templateName, systemPrompt: systemPrompt)
        stopTokens = tokenizer.endOfGenerationIDs
    }

    public struct Reply: Sendable {
        public var text: String
        public var generation: TextGenerationResult
        /// Messages dropped from the start of the history to fit the context.
        public var droppedMessages: Int
    }

    /// Answers the conversation `messages` (ending in a user message), streaming text as it is
    /// decoded: `onText` gets only whole UTF-8 characters, never half an emoji.
    public func reply(to messages: [ChatMessage], context: LlamaContext, parameters: GenerateParameters,
                      systemPrompt: String? = nil, cancellation: CancellationFlag? = nil,
                      onText: (String) -> Void) throws -> Reply {
        var history = messages
        if let systemPrompt, history.first?.role != .system {
            history.insert(ChatMessage(role: .system, content: systemPrompt), at: 0)
        }
        // Room for the reply: up to half the context, so a long history still leaves space to answer.
        let reserve = min(parameters.maxTokens, context.contextLength / 2)
        let fitted = try format.fit(history, tokenizer: tokenizer, maxTokens: context.contextLength - reserve)
        let prompt = try format.encode(fitted, tokenizer: tokenizer, addGenerationPrompt: true)
        var decoder = TokenDecoder(tokenizer: tokenizer)
        var text = ""
        var limited = parameters
        limited.maxTokens = min(parameters.maxTokens, context.contextLength - prompt.count)
        let result = try model.generate(prompt: prompt, context: context, parameters: limited,
                                        stopTokens: stopTokens, cancellation: cancellation) { id in
            let piece = decoder.append(id)
            if !piece.isEmpty { text += piece; onText(piece) }
            return true
        }
        let tail = decoder.finish()
        if !tail.isEmpty { text += tail; onText(tail) }
        return Reply(text: text, generation: result, droppedMessages: history.count - fitted.count)
    }

    public enum ReplyEvent: Sendable {
        case text(String)
        case done(Reply)
    }

    /// `reply` as an AsyncSequence. Ending the iteration early (or cancelling the consuming task)
    /// stops generation before the next token.
    public func replyStream(to messages: [ChatMessage], context: LlamaContext, parameters: GenerateParameters,
                            systemPrompt: String? = nil) -> AsyncThrowingStream<ReplyEvent, Error> {
        AsyncThrowingStream { continuation in
            let flag = CancellationFlag()
            continuation.onTermination = { _ in flag.cancel() }
            Thread.detachNewThread {
                do {
                    let reply = try self.reply(to: messages, context: context, parameters: parameters,
                                               systemPrompt: systemPrompt, cancellation: flag) {
                        continuation.yield(.text($0))
                    }
                    continuation.yield(.done(reply))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
    }
}
