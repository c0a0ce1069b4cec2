import ArgumentParser
import Foundation
import LLM

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer one prompt through the model's chat template (or raw with --raw), streaming the text.")

    @OptionGroup var modelOptions: ChatModelOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(help: "The prompt.") var prompt: String
    @Option(help: "System prompt (default: the model template's own).") var system: String?
    @Flag(help: "Feed the prompt as is, without the chat template (BOS added as the vocabulary asks).") var raw = false
    @Flag(help: "Print token counts and speeds to standard error afterwards.") var verbose = false

    func validate() throws {
        if prompt.isEmpty { throw ValidationError("--prompt is empty") }
    }

    func run() throws {
        let chat = try modelOptions.load(systemPrompt: system)
        let context = chat.model.makeContext(contextLength: modelOptions.context)
        let params = sampling.parameters
        let result: TextGenerationResult
        if raw {
            let ids = chat.tokenizer.encode(prompt, addSpecial: true, parseSpecial: false)
            guard ids.count < context.contextLength else {
                throw ValidationError("the prompt is \(ids.count) tokens; the context holds \(context.contextLength)")
            }
            var decoder = TokenDecoder(tokenizer: chat.tokenizer)
            var limited = params
            limited.maxTokens = min(params.maxTokens, context.contextLength - ids.count)
            result = try chat.model.generate(prompt: ids, context: context, parameters: limited, stopTokens: chat.stopTokens) {
                emit(decoder.append($0))
                return true
            }
            emit(decoder.finish())
        } else {
            result = try chat.reply(to: [ChatMessage(role: .user, content: prompt)], context: context,
                                    parameters: params, onText: emit).generation
        }
        emit("\n")
        if verbose {
            let g = result
            FileHandle.standardError.write(Data(String(
                format: "prompt %d tokens in %.2f s (%.1f tok/s); %d tokens generated in %.2f s (%.1f tok/s); stop: %@\n",
                g.promptTokens, g.prefillSeconds, Double(g.promptTokens - g.reusedPromptTokens) / max(g.prefillSeconds, 1e-9),
                g.tokens.count, g.decodeSeconds, Double(g.tokens.count) / max(g.decodeSeconds, 1e-9), g.stopReason.rawValue).utf8))
        }
    }
}

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the token ids and pieces of a text.")

    @OptionGroup var modelOptions: ChatModelOptions
    @Argument(help: "The text to tokenize.") var text: String
    @Flag(help: "Print one JSON object: ids and pieces.") var json = false
    @Flag(help: "Do not add BOS/EOS even where the vocabulary asks for them.") var noSpecial = false
    @Flag(help: "Treat control tokens such as <|im_start|> written in the text as plain text.") var noParseSpecial = false

    func run() throws {
        let chat = try modelOptions.load()
        let ids = chat.tokenizer.encode(text, addSpecial: !noSpecial, parseSpecial: !noParseSpecial)
        let pieces = ids.map { chat.tokenizer.piece($0) }
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["ids": ids, "pieces": pieces], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for (id, piece) in zip(ids, pieces) {
                print(String(format: "%6d", id), piece.debugDescription)
            }
            print("\(ids.count) tokens")
        }
    }
}
