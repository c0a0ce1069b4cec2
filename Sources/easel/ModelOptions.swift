import ArgumentParser
import Foundation
import LLM
import Tensors

/// Where the default chat model lives: models/ under the current folder, or under the checkout that
/// holds this executable (.build/release/easel → ../../models), or $EASEL_MODEL.
enum DefaultModels {
    static let chatFile = "models/SmolLM2-135M-Instruct.Q4_1.gguf"

    static func locate(_ relative: String, environment key: String) -> String {
        if let p = ProcessInfo.processInfo.environment[key], !p.isEmpty { return p }
        let fm = FileManager.default
        let cwd = URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent(relative)
        if fm.fileExists(atPath: cwd.path) { return cwd.path }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent(relative)
            if fm.fileExists(atPath: candidate.path) { return candidate.path }
            dir = dir.deletingLastPathComponent()
        }
        return cwd.path   // not found: the loader's error names this path
    }
}

struct ChatModelOptions: ParsableArguments {
    @Option(name: .long, help: "A LLaMA GGUF file or Hugging Face folder (default: \(DefaultModels.chatFile), or $EASEL_MODEL).")
    var model: String?

    @Option(help: "Chat template: chatml, llama2 or llama3 (default: detected from the model).")
    var chatTemplate: String?

    @Option(help: "Context length in tokens (default: the model's, at most 4096).")
    var context: Int?

    @Option(help: "Threads for every kernel (default: one per core, or $EASEL_THREADS).")
    var threads: Int?

    var modelPath: String { model ?? DefaultModels.locate(DefaultModels.chatFile, environment: "EASEL_MODEL") }

    func validate() throws {
        if let context, context < 16 || context > 1 << 20 { throw ValidationError("--context must be between 16 and 1048576") }
        if let threads, threads < 1 || threads > 256 { throw ValidationError("--threads must be between 1 and 256") }
        if let chatTemplate { _ = try ChatTemplate(name: chatTemplate) }
    }

    func load(systemPrompt: String? = nil) throws -> ChatModel {
        if let threads { Parallel.configure(threads: threads) }
        return try ChatModel(path: modelPath, templateName: chatTemplate, systemPrompt: systemPrompt)
    }
}

struct SamplingOptions: ParsableArguments {
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Float = GenerateParameters().temperature
    @Option(help: "Top-k (0 disables).") var topK: Int = GenerateParameters().topK
    @Option(help: "Top-p nucleus mass (1 disables).") var topP: Float = GenerateParameters().topP
    @Option(help: "Min-p relative to the best token (0 disables).") var minP: Float = GenerateParameters().minP
    @Option(help: "Repetition penalty (1 disables).") var repeatPenalty: Float = GenerateParameters().repetitionPenalty
    @Option(help: "Tokens the repetition penalty looks back over.") var repeatLastN: Int = GenerateParameters().repetitionWindow
    @Option(help: "Random seed: the same seed gives the same text.") var seed: UInt64 = GenerateParameters().seed
    @Option(help: "Maximum tokens to generate.") var maxTokens: Int = GenerateParameters().maxTokens

    var parameters: GenerateParameters {
        var p = GenerateParameters()
        p.temperature = temperature
        p.topK = topK
        p.topP = topP
        p.minP = minP
        p.repetitionPenalty = repeatPenalty
        p.repetitionWindow = repeatLastN
        p.seed = seed
        p.maxTokens = maxTokens
        return p
    }

    func validate() throws {
        do { try parameters.validate() } catch { throw ValidationError("\(error)") }
    }
}

/// Writes to standard output immediately: streamed tokens must show as they come.
func emit(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}
