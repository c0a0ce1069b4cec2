/// How well the router does on labelled turns: by k-fold cross-validation over the corpus, or on an
/// external file with a router trained on the whole corpus.
public struct RouterEvaluation: Sendable {
    public struct Row: Sendable {
        public var turn: LabelledTurn
        public var decision: RouteDecision
        public var isCorrect: Bool { decision.route == turn.route }
    }

    public struct CategoryScore: Sendable, Codable, Equatable {
        public var category: String
        public var total: Int
        public var correct: Int
        public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }
    }

    /// Every evaluated turn, in corpus order.
    public var rows: [Row]

    public var accuracy: Double { Double(rows.count { $0.isCorrect }) / Double(max(rows.count, 1)) }

    /// Turns labelled `actual` that were routed to `predicted`.
    public func count(actual: Route, predicted: Route) -> Int {
        rows.count { $0.turn.route == actual && $0.decision.route == predicted }
    }

    /// Of the turns routed to `route`, the share labelled `route` (0 when none were).
    public func precision(_ route: Route) -> Double {
        let predicted = rows.count { $0.decision.route == route }
        return predicted == 0 ? 0 : Double(count(actual: route, predicted: route)) / Double(predicted)
    }

    /// Of the turns labelled `route`, the share routed to `route` (0 when none were).
    public func recall(_ route: Route) -> Double {
        let actual = rows.count { $0.turn.route == route }
        return actual == 0 ? 0 : Double(count(actual: route, predicted: route)) / Double(actual)
    }

    public var categories: [CategoryScore] {
        var scores: [String: CategoryScore] = [:]
        for row in rows {
            var s = scores[row.turn.category, default: CategoryScore(category: row.turn.category, total: 0, correct: 0)]
            s.total += 1
            if row.isCorrect { s.correct += 1 }
            scores[row.turn.category] = s
        }
        return scores.values.sorted { $0.category < $1.category }
    }

    public func score(category: String) -> CategoryScore? { categories.first { $0.category == category } }

    public var misclassified: [Row] { rows.filter { !$0.isCorrect } }

    /// Routes each of `turns` with `router`.
    public static func evaluate(_ router: NaiveBayesRouter, on turns: [LabelledTurn]) -> RouterEvaluation {
        RouterEvaluation(rows: turns.map { Row(turn: $0, decision: router.decide($0.text, previous: $0.previous)) })
    }

    /// k-fold cross-validation: each turn is routed by a router trained on the other folds. Folds are
    /// stratified by category (a seeded shuffle, then turns dealt round-robin category by category),
    /// so every fold sees every kind of turn and the result does not depend on corpus order.
    public static func crossValidate(_ turns: [LabelledTurn], folds: Int = 10, alpha: Double = NaiveBayesRouter.defaultAlpha,
                                     imageThreshold: Double = NaiveBayesRouter.defaultImageThreshold,
                                     seed: UInt64 = 0x5EED) throws -> RouterEvaluation {
        guard folds >= 2, folds <= turns.count else {
            throw RouterError.invalidSetting(name: "folds", reason: "must be between 2 and the \(turns.count) turns, found \(folds)")
        }
        let featurizer = Featurizer()
        let featurized = turns.map { (features: featurizer.features(of: $0.text, previous: $0.previous), route: $0.route, previous: $0.previous) }
        var order = Array(turns.indices)
        var rng = SplitMix64(seed: seed)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        let dealt = order.enumerated().sorted { a, b in
            let (ca, cb) = (turns[a.element].category, turns[b.element].category)
            return ca != cb ? ca < cb : a.offset < b.offset
        }
        var fold = [Int](repeating: 0, count: turns.count)
        for (position, entry) in dealt.enumerated() { fold[entry.element] = position % folds }

        var decisions = [RouteDecision?](repeating: nil, count: turns.count)
        for k in 0..<folds {
            let training = turns.indices.filter { fold[$0] != k }.map { featurized[$0] }
            let router = try NaiveBayesRouter.train(featurized: training, alpha: alpha, imageThreshold: imageThreshold)
            for i in turns.indices where fold[i] == k {
                decisions[i] = router.decide(features: featurized[i].features, previous: turns[i].previous, explanationSize: 5)
            }
        }
        return RouterEvaluation(rows: turns.indices.map { Row(turn: turns[$0], decision: decisions[$0]!) })
    }
}

/// A small seeded generator (Steele, Lea and Flood's SplitMix64), so folds are the same on every machine.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
