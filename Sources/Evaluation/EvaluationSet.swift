// The captioned evaluation sets that training/make_eval_set.py writes next to easel-mini (easel-mini/eval/).
import Diffusion
import Foundation

/// The ground truth of one dataset image: what its caption asks for and what its pixels show.
public struct SceneTruth: Codable, Equatable, Sendable {
    public struct Object: Codable, Equatable, Sendable {
        public var shape: String
        public var colour: String
        public var size: String
        public var position: String
    }
    public struct Background: Codable, Equatable, Sendable {
        public var colour: String
    }
    /// "objects[subject] is <relation> objects[object]": left, right, above or below.
    public struct Relation: Codable, Equatable, Sendable {
        public var subject: Int
        public var object: Int
        public var relation: String
    }
    public var caption: String
    public var template: String?
    public var background: Background
    public var objects: [Object]
    /// The attributes the caption names: colour, shape, size, position, background, relation.
    public var stated: [String]
    public var relation: Relation?

    public func states(_ attribute: String) -> Bool { stated.contains(attribute) }
}

public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    case badFile(path: String, problem: String)
    case badInput(String)

    public var description: String {
        switch self {
        case let .badFile(path, problem): return "\(path): \(problem)"
        case let .badInput(problem): return problem
        }
    }
}

/// Captions with their ground truth, and (when the sheet is there) the real images they describe.
public struct EvaluationSet: Sendable {
    public var truths: [SceneTruth]
    public var images: [RGBImage]?

    public init(truths: [SceneTruth], images: [RGBImage]?) {
        self.truths = truths
        self.images = images
    }

    /// Reads `<name>.jsonl` (one SceneTruth per line) and, when it exists, the `<name>.png` sheet of 64x64 tiles,
    /// 20 a row, tile k showing line k.
    public init(jsonl url: URL) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw EvaluationError.badFile(path: url.path, problem: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EvaluationError.badFile(path: url.path, problem: "not UTF-8 text")
        }
        var truths: [SceneTruth] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            do {
                truths.append(try JSONDecoder().decode(SceneTruth.self, from: Data(trimmed.utf8)))
            } catch {
                throw EvaluationError.badFile(path: url.path, problem: "line \(n + 1) is not a scene ground truth (\(error))")
            }
        }
        guard !truths.isEmpty else { throw EvaluationError.badFile(path: url.path, problem: "no captions in it") }
        self.truths = truths
        let sheet = url.deletingPathExtension().appendingPathExtension("png")
        images = FileManager.default.fileExists(atPath: sheet.path)
            ? try Self.tiles(of: try PNGCodec.decode(contentsOf: sheet), count: truths.count, path: sheet.path) : nil
    }

    static let tile = ShapeWorld.imageSize, perRow = 20

    static func tiles(of sheet: RGBImage, count: Int, path: String) throws -> [RGBImage] {
        let rows = (count + perRow - 1) / perRow
        guard sheet.width == perRow * tile, sheet.height >= rows * tile else {
            throw EvaluationError.badFile(path: path, problem: "a sheet of \(count) images must be \(perRow * tile) wide and "
                                          + "at least \(rows * tile) high, got \(sheet.width)x\(sheet.height)")
        }
        return (0..<count).map { k in
            let (row, col) = k.quotientAndRemainder(dividingBy: perRow)
            var pixels = [UInt8](); pixels.reserveCapacity(tile * tile * 3)
            for y in 0..<tile {
                let start = ((row * tile + y) * sheet.width + col * tile) * 3
                pixels.append(contentsOf: sheet.pixels[start..<(start + tile * 3)])
            }
            return RGBImage(width: tile, height: tile, pixels: pixels)
        }
    }
}
