import ArgumentParser

@main
struct Easel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "easel",
        abstract: "A local chatbot that talks and draws: one LLaMA for chat and, through adapters, for Stable Diffusion.",
        subcommands: [Chat.self, Run.self, Generate.self, Draw.self, Eval.self, RouteCommand.self, RouterCommand.self, Tokenize.self, Info.self, Convert.self, Bench.self])
}
