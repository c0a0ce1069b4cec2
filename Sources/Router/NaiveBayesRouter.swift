import Foundation

/// One feature's push on a decision, in natural-log odds: positive toward `image`, negative toward `chat`.
public struct FeatureWeight: Sendable, Equatable, Codable {
    public var feature: String
    public var weight: Double
}

/// The router's answer for one turn, with its reasons.
public struct RouteDecision: Sendable, Codable {
    public var route: Route
    /// P(image | text, previous route); P(chat | …) is 1 minus this.
    public var imageProbability: Double
    public var chatProbability: Double { 1 - imageProbability }
    /// The probability of the route taken.
    public var probability: Double { route == .image ? imageProbability : chatProbability }
    /// log P(image | …) − log P(chat | …): `priorLogOdds` + the context weight + every feature's weight.
    public var logOdds: Double
    public var priorLogOdds: Double
    /// The previous-route term, named `<previous: image>`, `<previous: chat>` or `<previous: none>`.
    public var context: FeatureWeight
    /// The features that pushed most toward each route, strongest first.
    public var towardImage: [FeatureWeight]
    public var towardChat: [FeatureWeight]
}

/// Multinomial naive Bayes over `Featurizer` features, with add-alpha smoothing, class priors from
/// the corpus, and one categorical context variable: the previous turn's route.
///
/// For a turn with distinct known features F and previous route p, class c scores
///
///     log P(c) + log P(p | c) + Σ_{f ∈ F} log P(f | c)
///     P(c)     = turns_c / turns
///     P(p | c) = (turns_c with previous p + alpha) / (turns_c + 3 alpha)
///     P(f | c) = (turns_c containing f + alpha) / (Σ_g turns_c containing g + alpha · |V|)
///
/// and the posterior is the softmax of the two scores. Features never seen in training are left out
/// (they would only add a class-size bias). The previous route enters in two explicit ways and no
/// other: the factor P(p | c), and the features the `Featurizer` conjoins with it (`<image> make`,
/// `<chat> shorter`, `<image> <len:1>`). Together they make "make it blue" an image request after an
/// image and a chat turn after a text reply. The route is `image` when P(image | …) ≥ `imageThreshold`;
/// the default 0.6 leans to chat when the posterior is uncertain, because a wrong image costs the
/// user seconds and a confusing reply. Alpha 0.5 and the threshold were chosen by 10-fold
/// cross-validation over the corpus (`easel router eval --alpha A --threshold T`).
public struct NaiveBayesRouter: Sendable {
    public static let defaultAlpha = 0.5
    public static let defaultImageThreshold = 0.6

    public let model: RouterModel
    public let imageThreshold: Double
    public let featurizer = Featurizer()

    private let index: [String: Int]
    /// log P(f | image) − log P(f | chat), by feature index: all a decision needs.
    private let featureWeights: [Double]
    public let priorLogOdds: Double
    /// log P(p | image) − log P(p | chat), indexed as `RouterModel.contextIndex`.
    private let contextWeights: [Double]
    /// log P(f | image) and log P(f | chat), for the arithmetic tests and the explanation.
    public let logLikelihoods: (image: [Double], chat: [Double])
    public let logContexts: (image: [Double], chat: [Double])
    public let logPriors: (image: Double, chat: Double)

    /// A router over a trained or loaded model; `source` names the model in errors.
    public init(model: RouterModel, imageThreshold: Double = defaultImageThreshold, source: String = "model") throws {
        try model.validate(path: source)
        guard imageThreshold > 0, imageThreshold < 1 else {
            throw RouterError.invalidSetting(name: "image threshold", reason: "must be strictly between 0 and 1, found \(imageThreshold)")
        }
        self.model = model
        self.imageThreshold = imageThreshold
        let a = model.alpha
        let vocabulary = Double(model.features.count)
        let imageTotal = Double(model.imageCounts.reduce(0, +)) + a * vocabulary
        let chatTotal = Double(model.chatCounts.reduce(0, +)) + a * vocabulary
        let imageLL = model.imageCounts.map { log((Double($0) + a) / imageTotal) }
        let chatLL = model.chatCounts.map { log((Double($0) + a) / chatTotal) }
        logLikelihoods = (imageLL, chatLL)
        featureWeights = zip(imageLL, chatLL).map { $0 - $1 }
        let imageCtx = model.imageContexts.map { log((Double($0) + a) / (Double(model.imageTurns) + 3 * a)) }
        let chatCtx = model.chatContexts.map { log((Double($0) + a) / (Double(model.chatTurns) + 3 * a)) }
        logContexts = (imageCtx, chatCtx)
        contextWeights = zip(imageCtx, chatCtx).map { $0 - $1 }
        let turns = Double(model.imageTurns + model.chatTurns)
        logPriors = (log(Double(model.imageTurns) / turns), log(Double(model.chatTurns) / turns))
        priorLogOdds = logPriors.image - logPriors.chat
        index = Dictionary(uniqueKeysWithValues: model.features.enumerated().map { ($1, $0) })
    }

    /// Trains on labelled turns; milliseconds for the corpus.
    public static func train(_ turns: [LabelledTurn], alpha: Double = defaultAlpha,
                             imageThreshold: Double = defaultImageThreshold) throws -> NaiveBayesRouter {
        let featurizer = Featurizer()
        return try train(featurized: turns.map { (featurizer.features(of: $0.text, previous: $0.previous), $0.route, $0.previous) },
                         alpha: alpha, imageThreshold: imageThreshold)
    }

    static func train(featurized: [(features: [String], route: Route, previous: Route?)], alpha: Double,
                      imageThreshold: Double) throws -> NaiveBayesRouter {
        guard alpha.isFinite, alpha > 0 else {
            throw RouterError.invalidSetting(name: "alpha", reason: "must be a positive number, found \(alpha)")
        }
        return try NaiveBayesRouter(model: RouterModel(alpha: alpha, turns: featurized),
                                    imageThreshold: imageThreshold, source: "training turns")
    }

    /// Routes one turn. `previous` is the route of the turn before (nil for the first turn);
    /// `explanationSize` features are listed toward each route (0 skips the sort).
    public func decide(_ text: String, previous: Route? = nil, explanationSize: Int = 5) -> RouteDecision {
        decide(features: featurizer.features(of: text, previous: previous), previous: previous, explanationSize: explanationSize)
    }

    func decide(features: [String], previous: Route?, explanationSize: Int) -> RouteDecision {
        let c = RouterModel.contextIndex(previous)
        var logOdds = priorLogOdds + contextWeights[c]
        var present: [FeatureWeight] = []
        present.reserveCapacity(explanationSize > 0 ? features.count : 0)
        for feature in features {
            guard let i = index[feature] else { continue }
            logOdds += featureWeights[i]
            if explanationSize > 0 { present.append(FeatureWeight(feature: feature, weight: featureWeights[i])) }
        }
        let pImage = Self.sigmoid(logOdds)
        let contextName = previous.map { "<previous: \($0.rawValue)>" } ?? "<previous: none>"
        var towardImage: [FeatureWeight] = []
        var towardChat: [FeatureWeight] = []
        if explanationSize > 0 {
            present.sort { abs($0.weight) > abs($1.weight) || (abs($0.weight) == abs($1.weight) && $0.feature < $1.feature) }
            towardImage = Array(present.lazy.filter { $0.weight > 0 }.prefix(explanationSize))
            towardChat = Array(present.lazy.filter { $0.weight < 0 }.prefix(explanationSize))
        }
        return RouteDecision(route: pImage >= imageThreshold ? .image : .chat, imageProbability: pImage,
                             logOdds: logOdds, priorLogOdds: priorLogOdds,
                             context: FeatureWeight(feature: contextName, weight: contextWeights[c]),
                             towardImage: towardImage, towardChat: towardChat)
    }

    /// 1 / (1 + e^−x) without overflow for large |x|.
    static func sigmoid(_ x: Double) -> Double {
        x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
    }
}
