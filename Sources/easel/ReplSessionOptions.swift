import ArgumentParser
import ChatCore
import Diffusion
import Foundation
import LLM
import Router

/// What `easel chat` and `easel run` load: the chat model, the router, the drawing model, and the
/// session's starting settings. Models load once, at start-up.
struct SessionOptions: ParsableArguments {
    @OptionGroup var modelOptions: ChatModelOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(name: .customLong("sd-model"),
            help: "A Stable Diffusion v1 diffusers folder or single-file checkpoint to draw with (default: easel-mini, or $EASEL_SD_MODEL).")
    var sdModel: String?

    @Option(name: .customLong("router"), help: "A router model saved by `easel router train` (default: train on router-corpus/ at start-up).")
    var routerModel: String?

    @Option(help: "Route to image only when P(image) is at least this (0 < t < 1).")
    var threshold: Double = NaiveBayesRouter.defaultImageThreshold

    @Option(help: "Denoising steps per picture.") var steps: Int = SessionSettings().steps
    @Option(help: "Classifier-free guidance scale (default: the drawing model's easel.json, else 7.5).") var guidance: Float?
    @Option(help: "Scheduler: \(SchedulerKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scheduler: String = SessionSettings().scheduler.rawValue
    @Option(help: "Picture size WxH (default: the drawing model's own).") var size: String?
    @Option(help: "System prompt (default: the model template's own).") var system: String?

    func validate() throws {
        guard threshold > 0, threshold < 1 else { throw ValidationError("--threshold must be strictly between 0 and 1") }
        do { _ = try settings(outputFolder: URL(fileURLWithPath: "out")) } catch { throw ValidationError("\(error)") }
    }

    /// The settings a session starts with: the options, and the drawing model's own guidance (its easel.json)
    /// when --guidance is not given.
    func startingSettings(outputFolder: URL, drawer: StableDiffusionDrawer?) throws -> SessionSettings {
        var s = try settings(outputFolder: outputFolder)
        if guidance == nil, let drawer { s.guidance = drawer.pipeline.defaults.guidance }
        return s
    }

    /// The starting settings; `outputFolder` is where pictures go.
    func settings(outputFolder: URL) throws -> SessionSettings {
        var s = SessionSettings()
        s.sampling = sampling.parameters
        s.seed = sampling.seed
        s.steps = steps
        s.guidance = guidance ?? DrawingDefaults.stableDiffusionGuidance
        guard let kind = SchedulerKind(rawValue: scheduler.lowercased()) else {
            throw ChatError.badCommand("--scheduler: '\(scheduler)' is none of \(SchedulerKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        s.scheduler = kind
        if let size {
            guard case .size(let w, let h)? = try SessionCommand.parse("/size \(size)") else {
                throw ChatError.badCommand("--size: '\(size)' is not WxH")
            }
            s.width = w
            s.height = h
        }
        s.systemPrompt = system
        s.outputFolder = outputFolder
        try s.validate()
        return s
    }

    /// What was loaded and how long each took, for the start-up line and transcript headers.
    struct Loaded {
        var session: ChatSession
        var lines: [String]
        var totalSeconds: Double
    }

    func load(outputFolder: URL) throws -> Loaded {
        let clock = ContinuousClock()
        let start = clock.now
        var lines: [String] = []

        var t = clock.now
        let chat = try modelOptions.load(systemPrompt: nil)
        let context = chat.model.makeContext(contextLength: modelOptions.context)
        let c = chat.model.config
        let chatName = URL(fileURLWithPath: chat.path).lastPathComponent
        lines.append("chat model \(chatName) (\(c.layerCount) layers, \(c.hiddenSize) wide, context \(context.contextLength), " +
                     "\(chat.template.rawValue) template) in \(seconds(clock.now - t))")

        t = clock.now
        let router: NaiveBayesRouter
        let routerName: String
        if let routerModel {
            router = try RouterLoader.load(.model(path: routerModel), imageThreshold: threshold)
            routerName = "router \(URL(fileURLWithPath: routerModel).lastPathComponent)"
        } else {
            let source = try RouterLoader.locate()
            router = try RouterLoader.load(source, imageThreshold: threshold)
            switch source {
            case .model(let p): routerName = "router \(URL(fileURLWithPath: p).lastPathComponent)"
            case .corpus: routerName = "router trained on \(router.model.imageTurns + router.model.chatTurns) turns"
            }
        }
        lines.append("\(routerName) in \(seconds(clock.now - t))")

        t = clock.now
        var drawer: StableDiffusionDrawer?
        let sdPath = sdModel ?? DefaultDrawModel.path
        if FileManager.default.fileExists(atPath: sdPath) {
            drawer = StableDiffusionDrawer(pipeline: try loadDrawPipeline(sdPath, tokenizer: nil))
            lines.append("drawing model \(drawer!.modelName) (\(drawer!.defaultSize)x\(drawer!.defaultSize), " +
                         "\(drawer!.textEncoderName) text encoder) in \(seconds(clock.now - t))")
        } else if sdModel != nil || ProcessInfo.processInfo.environment["EASEL_SD_MODEL"].map({ !$0.isEmpty }) == true {
            throw ValidationError("no drawing model at \(sdPath)")
        } else {
            lines.append("no drawing model at \(sdPath) (give --sd-model DIR); image turns will say so")
        }

        let session = ChatSession(chat: chat, context: context, router: router, drawer: drawer,
                                  settings: try startingSettings(outputFolder: outputFolder, drawer: drawer))
        return Loaded(session: session, lines: lines, totalSeconds: (clock.now - start).timeInterval)
    }

    private func seconds(_ d: Duration) -> String { String(format: "%.2f s", d.timeInterval) }
}

extension Duration {
    var timeInterval: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
