import Foundation

/// The router's sufficient statistics: what training counted, saved as JSON by `easel router train`.
///
/// Counts, not log-probabilities, are stored, so a loaded model routes exactly as the corpus it came
/// from and the smoothing `alpha` can be read (and checked) from the file.
public struct RouterModel: Codable, Sendable, Equatable {
    public static let formatName = "easel-router-naive-bayes"

    public var format = RouterModel.formatName
    /// `Featurizer.version` at training time; a model with other features is refused.
    public var featurizerVersion = Featurizer.version
    /// Add-alpha smoothing of the feature and context distributions.
    public var alpha: Double
    /// Training turns per class.
    public var imageTurns: Int
    public var chatTurns: Int
    /// Training turns per class by previous route: [first turn (`-`), after an image, after a chat reply].
    public var imageContexts: [Int]
    public var chatContexts: [Int]
    /// The vocabulary, in the order training first saw it, and for each feature the number of turns of each class that contain it.
    public var features: [String]
    public var imageCounts: [Int]
    public var chatCounts: [Int]

    enum CodingKeys: String, CodingKey {
        case format, alpha, features
        case featurizerVersion = "featurizer_version"
        case imageTurns = "image_turns", chatTurns = "chat_turns"
        case imageContexts = "image_contexts", chatContexts = "chat_contexts"
        case imageCounts = "image_counts", chatCounts = "chat_counts"
    }

    /// Counts the featurised turns. Each feature counts once per turn (binarised multinomial naive
    /// Bayes): in short texts a repeated word says little more than the word once. Features are kept
    /// in the order first seen, which is deterministic for a given corpus and saves sorting ~10^5 strings.
    init(alpha: Double, turns: [(features: [String], route: Route, previous: Route?)]) {
        var index: [String: Int] = [:]
        var features: [String] = []
        var imageCounts: [Int] = []
        var chatCounts: [Int] = []
        var imageContexts = [0, 0, 0]
        var chatContexts = [0, 0, 0]
        for turn in turns {
            let isImage = turn.route == .image
            if isImage { imageContexts[Self.contextIndex(turn.previous)] += 1 } else { chatContexts[Self.contextIndex(turn.previous)] += 1 }
            for feature in turn.features {
                let i = index[feature] ?? {
                    index[feature] = features.count
                    features.append(feature)
                    imageCounts.append(0)
                    chatCounts.append(0)
                    return features.count - 1
                }()
                if isImage { imageCounts[i] += 1 } else { chatCounts[i] += 1 }
            }
        }
        self.alpha = alpha
        self.imageTurns = imageContexts.reduce(0, +)
        self.chatTurns = chatContexts.reduce(0, +)
        self.imageContexts = imageContexts
        self.chatContexts = chatContexts
        self.features = features
        self.imageCounts = imageCounts
        self.chatCounts = chatCounts
    }

    static func contextIndex(_ previous: Route?) -> Int {
        switch previous {
        case nil: 0
        case .image: 1
        case .chat: 2
        }
    }

    /// Checks what the arithmetic relies on; `path` names the model in the error.
    func validate(path: String) throws {
        func fail(_ reason: String) -> RouterError { .malformedModel(path: path, reason: reason) }
        guard format == Self.formatName else { throw fail("format is '\(format)', expected '\(Self.formatName)'") }
        guard featurizerVersion == Featurizer.version else {
            throw fail("trained with featurizer version \(featurizerVersion); this Easel uses \(Featurizer.version): retrain it")
        }
        guard alpha.isFinite, alpha > 0 else { throw fail("alpha must be a positive number, found \(alpha)") }
        guard imageTurns > 0, chatTurns > 0 else { throw fail("needs at least one training turn of each route") }
        guard imageContexts.count == 3, chatContexts.count == 3 else { throw fail("contexts must have 3 counts each") }
        guard imageContexts.allSatisfy({ $0 >= 0 }), chatContexts.allSatisfy({ $0 >= 0 }),
              imageContexts.reduce(0, +) == imageTurns, chatContexts.reduce(0, +) == chatTurns
        else { throw fail("context counts must be non-negative and sum to the turn counts") }
        guard imageCounts.count == features.count, chatCounts.count == features.count else {
            throw fail("\(features.count) features but \(imageCounts.count) image and \(chatCounts.count) chat counts")
        }
        for i in features.indices {
            guard (0...imageTurns).contains(imageCounts[i]), (0...chatTurns).contains(chatCounts[i]) else {
                throw fail("feature '\(features[i])' has counts outside 0...turns")
            }
        }
        guard Set(features).count == features.count else { throw fail("a feature is listed twice") }
    }

    public func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do { try encoder.encode(self).write(to: URL(fileURLWithPath: path)) } catch {
            throw RouterError.cannotRead(path: path, reason: "cannot write the model: \(error)")
        }
    }

    public static func load(from path: String) throws -> RouterModel {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RouterError.cannotRead(path: path, reason: "the file cannot be opened")
        }
        let model: RouterModel
        do { model = try JSONDecoder().decode(RouterModel.self, from: data) } catch {
            throw RouterError.malformedModel(path: path, reason: "not a router model JSON: \(error)")
        }
        try model.validate(path: path)
        return model
    }
}
