import ArgumentParser
import Foundation
import LLM

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Talk with the model: a plain multi-turn REPL with streaming replies (Ctrl-D or /quit leaves).")

    @OptionGroup var modelOptions: ChatModelOptions
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "System prompt (default: the model template's own).") var system: String?

    func run() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let chat = try modelOptions.load(systemPrompt: system)
        let context = chat.model.makeContext(contextLength: modelOptions.context)
        let c = chat.model.config
        print("easel: \(URL(fileURLWithPath: chat.path).lastPathComponent) — \(c.layerCount) layers, \(c.hiddenSize) wide, " +
              "context \(context.contextLength), template \(chat.template.rawValue); loaded in \(start.duration(to: clock.now).formatted(.units(allowed: [.seconds, .milliseconds])))")
        print("Type a message; /reset forgets the conversation, /quit or Ctrl-D leaves.")
        var history: [ChatMessage] = []
        var params = sampling.parameters
        while true {
            emit("> ")
            guard let line = readLine() else { emit("\n"); return }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == "/quit" { return }
            if text == "/reset" { history.removeAll(); context.truncate(to: 0); print("(conversation cleared)"); continue }
            history.append(ChatMessage(role: .user, content: text))
            do {
                let reply = try chat.reply(to: history, context: context, parameters: params, onText: emit)
                emit("\n")
                history.append(ChatMessage(role: .assistant, content: reply.text))
                if reply.droppedMessages > 0 { history.removeFirst(min(reply.droppedMessages, history.count)) }
                params.seed &+= 1   // a new draw each turn; the run as a whole stays reproducible
            } catch {
                history.removeLast()
                print("error: \(error)")
            }
        }
    }
}
