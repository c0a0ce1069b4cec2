// Attribute accuracy of drawings against what their captions asked for.
import Foundation

public struct Tally: Codable, Equatable, Sendable {
    public var correct = 0
    public var total = 0
    public var accuracy: Double? { total > 0 ? Double(correct) / Double(total) : nil }
    /// Wilson score interval of the accuracy at 95%: drawing each caption once with its own seed is one
    /// Bernoulli trial, so the same captions drawn with other seeds usually score within it (a few hundred
    /// captions leave a band of about ±5 points).
    public var interval: ClosedRange<Double>? {
        guard total > 0 else { return nil }
        let n = Double(total), p = Double(correct) / n, z = 1.959964
        let centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        let half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
        return max(0, centre - half)...min(1, centre + half)
    }

    mutating func add(_ right: Bool) {
        total += 1
        if right { correct += 1 }
    }

    enum CodingKeys: String, CodingKey { case correct, total, accuracy, low = "interval_low", high = "interval_high" }
    public init() {}
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        correct = try c.decode(Int.self, forKey: .correct)
        total = try c.decode(Int.self, forKey: .total)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(correct, forKey: .correct)
        try c.encode(total, forKey: .total)
        try c.encodeIfPresent(accuracy, forKey: .accuracy)
        try c.encodeIfPresent(interval?.lowerBound, forKey: .low)
        try c.encodeIfPresent(interval?.upperBound, forKey: .high)
    }
}

/// Accuracies of one kind of scene. Colour, shape, size and position count objects; background, relation
/// and object count count images. Only what a caption states is judged.
public struct AttributeAccuracy: Codable, Equatable, Sendable {
    public var images = 0
    public var colour = Tally(), shape = Tally(), size = Tally(), position = Tally()
    public var background = Tally(), relation = Tally(), objectCount = Tally()

    enum CodingKeys: String, CodingKey {
        case images, colour, shape, size, position, background, relation, objectCount = "object_count"
    }
}

/// One-object and two-object scenes, kept apart as issue 5's targets are on one-object scenes.
public struct Scorecard: Codable, Equatable, Sendable {
    public var oneObject = AttributeAccuracy()
    public var twoObjects = AttributeAccuracy()

    public init() {}

    enum CodingKeys: String, CodingKey { case oneObject = "one_object", twoObjects = "two_objects" }

    /// Scores one drawing. Each object of the caption is paired with a distinct detected object: first one of
    /// the same colour and shape, then one of the same colour, then the largest left (a one-object caption thus
    /// judges the largest object when the colour is wrong).
    public mutating func add(_ truth: SceneTruth, _ seen: SceneAnalysis) {
        var acc = truth.objects.count == 1 ? oneObject : twoObjects
        acc.images += 1
        acc.objectCount.add(seen.objects.count == truth.objects.count)
        if truth.states("background") { acc.background.add(seen.background == truth.background.colour) }
        let pairs = pair(truth.objects, seen.objects)
        for (k, object) in truth.objects.enumerated() {
            let found = pairs[k].map { seen.objects[$0] }
            acc.colour.add(found?.colour == object.colour)
            acc.shape.add(found?.shape == object.shape)
            if truth.states("size") { acc.size.add(found?.size == object.size) }
            if truth.states("position") { acc.position.add(found?.position == object.position) }
        }
        if let r = truth.relation {
            if let s = pairs[safe: r.subject] ?? nil, let o = pairs[safe: r.object] ?? nil {
                acc.relation.add(Self.holds(r.relation, seen.objects[s].position, seen.objects[o].position))
            } else {
                acc.relation.add(false)
            }
        }
        if truth.objects.count == 1 { oneObject = acc } else { twoObjects = acc }
    }

    private func pair(_ wanted: [SceneTruth.Object], _ seen: [DetectedObject]) -> [Int?] {
        var used = Set<Int>(), pairs = [Int?](repeating: nil, count: wanted.count)
        let rules: [(SceneTruth.Object, DetectedObject) -> Bool] = [
            { $0.colour == $1.colour && $0.shape == $1.shape }, { $0.colour == $1.colour }, { _, _ in true },
        ]
        for rule in rules {
            for (k, w) in wanted.enumerated() where pairs[k] == nil {
                if let j = seen.indices.first(where: { !used.contains($0) && rule(w, seen[$0]) }) {
                    pairs[k] = j
                    used.insert(j)
                }
            }
        }
        return pairs
    }

    /// Whether `subject` is left of / right of / above / below `object`, by their grid cells (as the captions
    /// were written).
    public static func holds(_ relation: String, _ subject: String, _ object: String) -> Bool {
        guard let s = ShapeWorld.positions.firstIndex(of: subject), let o = ShapeWorld.positions.firstIndex(of: object) else {
            return false
        }
        switch relation {
        case "left": return s % 3 < o % 3
        case "right": return s % 3 > o % 3
        case "above": return s / 3 < o / 3
        case "below": return s / 3 > o / 3
        default: return false
        }
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
