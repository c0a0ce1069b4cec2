import ArgumentParser
import Foundation
import LLM
import Tensors

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Easel's engines (bench/ scripts run these beside the reference implementations).",
        subcommands: [BenchLLM.self, BenchSD.self])
}

struct BenchLLM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llm",
        abstract: "Prefill and decode speed of the chat model, and peak memory.")

    @OptionGroup var modelOptions: ChatModelOptions
    @Option(help: "Prompt length in tokens.") var promptTokens = 128
    @Option(help: "Greedy decode steps (end tokens are ignored, as llama-bench does).") var decodeTokens = 64
    @Option(help: "Timed runs; the median is reported. 0 only prints the prompt ids.") var runs = 3
    @Flag(help: "Print one JSON object: prefill_tok_s, decode_tok_s, peak_rss_mb, prompt_ids.") var json = false

    /// Varied English, tokenized and repeated to length: both Easel and the peer get these exact ids.
    static let promptText = """
        The old lighthouse keeper climbed the spiral stairs every evening at dusk, counting the steps \
        out of habit: one hundred and twelve. From the lamp room he could see the harbour, the fishing \
        boats returning with their nets, and the long grey line of the breakwater. In 1987 a storm \
        had torn the roof from the boathouse; he still kept the brass weathervane on his desk. \
        def fibonacci(n): return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2) \
        Les enfants jouaient sur la plage pendant que le soleil se couchait derrière les collines.
        """

    func validate() throws {
        guard promptTokens >= 1, decodeTokens >= 1, runs >= 0, runs <= 100 else {
            throw ValidationError("--prompt-tokens and --decode-tokens must be ≥ 1, --runs in 0…100")
        }
    }

    func run() throws {
        let chat = try modelOptions.load()
        let base = chat.tokenizer.encode(Self.promptText, addSpecial: false, parseSpecial: false)
        let ids = (0..<promptTokens).map { base[$0 % base.count] }
        var prefill: [Double] = [], decode: [Double] = []
        let clock = ContinuousClock()
        let context = chat.model.makeContext(contextLength: promptTokens + decodeTokens + 8, maxBatch: max(promptTokens, 1))
        for _ in 0..<runs {
            context.truncate(to: 0)
            let t0 = clock.now
            var logits = try chat.model.forward(ids, context: context).lastLogits!
            let t1 = clock.now
            for _ in 0..<decodeTokens {
                logits = try chat.model.forward([LogitSampler.argmax(logits)], context: context).lastLogits!
            }
            let t2 = clock.now
            prefill.append(Double(promptTokens) / seconds(t0, t1))
            decode.append(Double(decodeTokens) / seconds(t1, t2))
        }
        let rss = peakRSSMegabytes()
        if json {
            var object: [String: Any] = ["prompt_ids": ids, "peak_rss_mb": rss, "threads": Parallel.threadCount]
            if runs > 0 { object["prefill_tok_s"] = median(prefill); object["decode_tok_s"] = median(decode) }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else if runs > 0 {
            print(String(format: "prefill %d tokens: %.1f tok/s; decode %d tokens: %.1f tok/s (medians of %d, %d threads); peak RSS %.0f MB",
                         promptTokens, median(prefill), decodeTokens, median(decode), runs, Parallel.threadCount, rss))
        }
    }
}

func seconds(_ a: ContinuousClock.Instant, _ b: ContinuousClock.Instant) -> Double {
    let d = a.duration(to: b).components
    return Double(d.seconds) + Double(d.attoseconds) * 1e-18
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Peak resident set size of this process (Linux: VmHWM in /proc/self/status).
func peakRSSMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kb / 1024
}
