import ArgumentParser
import Foundation
import Router

/// Where the router's model comes from: a saved model, a corpus, or the default search of `RouterLoader`.
struct RouterSourceArguments: ParsableArguments {
    @Option(help: "A model saved by `easel router train` (default: train on the corpus at start-up).")
    var model: String?

    @Option(help: "A router corpus folder or .tsv file (default: $EASEL_ROUTER_CORPUS or the nearest router-corpus/).")
    var corpus: String?

    @Option(help: "Route to image only when P(image) is at least this (0 < t < 1).")
    var threshold: Double = NaiveBayesRouter.defaultImageThreshold

    func validate() throws {
        guard model == nil || corpus == nil else { throw ValidationError("give --model or --corpus, not both") }
        guard threshold > 0, threshold < 1 else { throw ValidationError("--threshold must be strictly between 0 and 1") }
    }

    func source() throws -> RouterLoader.Source {
        if let model { return .model(path: model) }
        if let corpus { return .corpus(path: corpus) }
        return try RouterLoader.locate()
    }

    /// The corpus for evaluation and training, which need labelled turns, not a saved model.
    func corpusTurns() throws -> [LabelledTurn] {
        guard model == nil else { throw ValidationError("this command works from a corpus; --model cannot be used") }
        switch try source() {
        case .corpus(let path): return try RouterCorpus.load(from: path)
        case .model(let path): throw ValidationError("EASEL_ROUTER_MODEL (\(path)) is a saved model; this command needs a corpus (--corpus)")
        }
    }

    func router() throws -> NaiveBayesRouter { try RouterLoader.load(source(), imageThreshold: threshold) }
}

extension Route: ExpressibleByArgument {}

/// `easel route TEXT`: the route of one turn, its probability and the features behind it.
struct RouteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Say whether a turn asks for an image or a text reply, and why.",
        discussion: "With no TEXT, or TEXT '-', the turn is read from standard input.")

    @Argument(help: "The user's turn (several words are joined with spaces).")
    var text: [String] = []

    @Option(help: "The route of the turn before: image or chat (default: none, a first turn).")
    var previous: Route?

    @Option(help: "How many features to list toward each route.")
    var top: Int = 5

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var source: RouterSourceArguments

    func validate() throws {
        guard (0...100).contains(top) else { throw ValidationError("--top must be between 0 and 100") }
    }

    func run() throws {
        let router = try source.router()
        let turn: String
        if text.isEmpty || text == ["-"] {
            turn = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            turn = text.joined(separator: " ")
        }
        let decision = router.decide(turn, previous: previous, explanationSize: top)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(RouteReport(decision)), as: UTF8.self))
            return
        }
        print("\(decision.route.rawValue)  p=\(format(decision.probability))  (P(image)=\(format(decision.imageProbability)), threshold \(format(router.imageThreshold)))")
        print("  prior log-odds \(signed(decision.priorLogOdds)), \(decision.context.feature) \(signed(decision.context.weight)), total \(signed(decision.logOdds))")
        for (title, features) in [("toward image", decision.towardImage), ("toward chat", decision.towardChat)] {
            let list = features.map { "\($0.feature) \(signed($0.weight))" }.joined(separator: ", ")
            print("  \(title): \(list.isEmpty ? "(none)" : list)")
        }
    }
}

/// The JSON of `easel route --json`: `RouteDecision` plus its derived probabilities.
private struct RouteReport: Encodable {
    var route: Route
    var probability: Double
    var imageProbability: Double
    var chatProbability: Double
    var logOdds: Double
    var priorLogOdds: Double
    var context: FeatureWeight
    var towardImage: [FeatureWeight]
    var towardChat: [FeatureWeight]

    init(_ d: RouteDecision) {
        route = d.route; probability = d.probability; imageProbability = d.imageProbability
        chatProbability = d.chatProbability; logOdds = d.logOdds; priorLogOdds = d.priorLogOdds
        context = d.context; towardImage = d.towardImage; towardChat = d.towardChat
    }

    enum CodingKeys: String, CodingKey {
        case route, probability, context
        case imageProbability = "image_probability", chatProbability = "chat_probability"
        case logOdds = "log_odds", priorLogOdds = "prior_log_odds"
        case towardImage = "toward_image", towardChat = "toward_chat"
    }
}

/// `easel router eval|train|bench`.
struct RouterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router",
        abstract: "Evaluate, train or time the naive Bayes router.",
        subcommands: [RouterEvalCommand.self, RouterTrainCommand.self, RouterBenchCommand.self])
}

struct RouterEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Accuracy, precision/recall, confusion matrix, per-category accuracy and the misclassified turns.",
        discussion: "Without --file: k-fold cross-validation over the corpus. With --file: a router trained on the whole corpus routes the file's labelled turns.")

    @Option(help: "An external labelled .tsv file (the corpus format) to evaluate on.")
    var file: String?

    @Option(help: "Folds for cross-validation.")
    var folds: Int = 10

    @Option(help: "Add-alpha smoothing.")
    var alpha: Double = NaiveBayesRouter.defaultAlpha

    @OptionGroup var source: RouterSourceArguments

    func validate() throws {
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2") }
        guard alpha > 0, alpha.isFinite else { throw ValidationError("--alpha must be positive") }
    }

    func run() throws {
        let turns = try source.corpusTurns()
        let evaluation: RouterEvaluation
        if let file {
            let router = try NaiveBayesRouter.train(turns, alpha: alpha, imageThreshold: source.threshold)
            evaluation = RouterEvaluation.evaluate(router, on: try RouterCorpus.load(from: file))
            print("trained on \(turns.count) corpus turns, evaluated on \(evaluation.rows.count) turns of \(file)")
        } else {
            evaluation = try RouterEvaluation.crossValidate(turns, folds: folds, alpha: alpha, imageThreshold: source.threshold)
            print("\(folds)-fold cross-validation over \(turns.count) turns (alpha \(alpha), threshold \(source.threshold))")
        }
        print("accuracy \(percent(evaluation.accuracy))")
        for route in Route.allCases {
            print("  \(route.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) precision \(percent(evaluation.precision(route)))  recall \(percent(evaluation.recall(route)))")
        }
        print("confusion (rows: label, columns: routed)")
        print("           image   chat")
        for actual in Route.allCases {
            let counts = Route.allCases.map { String(evaluation.count(actual: actual, predicted: $0)).leftPadded(6) }
            print("  \(actual.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) \(counts.joined(separator: " "))")
        }
        print("per category")
        for c in evaluation.categories {
            print("  \(c.category.padding(toLength: 20, withPad: " ", startingAt: 0)) \(percent(c.accuracy).leftPadded(7))  \(c.correct)/\(c.total)")
        }
        let wrong = evaluation.misclassified
        print("misclassified: \(wrong.count)")
        for row in wrong {
            let previous = row.turn.previous?.rawValue ?? "-"
            print("  \(row.turn.source)  \(row.turn.route.rawValue)→\(row.decision.route.rawValue)  P(image)=\(format(row.decision.imageProbability))  previous \(previous)  \(row.turn.text)")
        }
    }
}

struct RouterTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train on the corpus and save the model's counts as JSON.")

    @Option(help: "Where to write the model.")
    var out: String

    @Option(help: "Add-alpha smoothing.")
    var alpha: Double = NaiveBayesRouter.defaultAlpha

    @OptionGroup var source: RouterSourceArguments

    func validate() throws {
        guard alpha > 0, alpha.isFinite else { throw ValidationError("--alpha must be positive") }
    }

    func run() throws {
        let turns = try source.corpusTurns()
        let router = try NaiveBayesRouter.train(turns, alpha: alpha, imageThreshold: source.threshold)
        try router.model.save(to: out)
        print("trained on \(turns.count) turns, \(router.model.features.count) features; saved \(out)")
    }
}

/// `easel router bench`: training time over the corpus and per-turn routing latency, as medians.
struct RouterBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Time training over the corpus and routing one turn.")

    @Option(help: "Times to train.")
    var trainings: Int = 30

    @Option(help: "Passes over the corpus turns when timing routing.")
    var passes: Int = 20

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var source: RouterSourceArguments

    func validate() throws {
        guard trainings >= 1, passes >= 1 else { throw ValidationError("--trainings and --passes must be at least 1") }
    }

    func run() throws {
        let turns = try source.corpusTurns()
        let clock = ContinuousClock()
        var trainTimes: [Double] = []
        var router = try NaiveBayesRouter.train(turns)
        for _ in 0..<trainings {
            let start = clock.now
            router = try NaiveBayesRouter.train(turns, imageThreshold: source.threshold)
            trainTimes.append(seconds(clock.now - start))
        }
        // Each turn is routed with its explanation (5 features each way), as the engine does per turn.
        var routeTimes: [Double] = []
        var images = 0
        for _ in 0..<passes {
            for turn in turns {
                let start = clock.now
                let decision = router.decide(turn.text, previous: turn.previous)
                routeTimes.append(seconds(clock.now - start))
                if decision.route == .image { images += 1 }
            }
        }
        let trainMedian = median(trainTimes) * 1e3
        let routeMedian = median(routeTimes) * 1e6
        let routeP99 = percentile(routeTimes, 0.99) * 1e6
        if json {
            print("""
            {"turns": \(turns.count), "trainings": \(trainings), "train_ms_median": \(rounded(trainMedian)), \
            "routings": \(routeTimes.count), "route_us_median": \(rounded(routeMedian)), "route_us_p99": \(rounded(routeP99)), \
            "image_routes": \(images)}
            """)
        } else {
            print("training over \(turns.count) turns: median \(rounded(trainMedian)) ms (\(trainings) runs)")
            print("routing one turn with explanation: median \(rounded(routeMedian)) µs, p99 \(rounded(routeP99)) µs (\(routeTimes.count) routings)")
        }
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
    private func median(_ xs: [Double]) -> Double { percentile(xs, 0.5) }
    private func percentile(_ xs: [Double], _ q: Double) -> Double {
        let sorted = xs.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
    }
    private func rounded(_ x: Double) -> String { String(format: "%.2f", x) }
}

private func format(_ p: Double) -> String { String(format: "%.3f", p) }
private func signed(_ x: Double) -> String { String(format: "%+.2f", x) }
private func percent(_ p: Double) -> String { String(format: "%.1f%%", p * 100) }

private extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
