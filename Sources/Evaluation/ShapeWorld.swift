// The synthetic domain of easel-mini, as training/dataset.py defines it (palette, shapes, sizes, 3x3 grid).
import Foundation

/// Everything the analyser needs to know about the pictures easel-mini was trained on: 64x64 images of one or
/// two flat shapes on a plain background. Values are dataset.py's; the Swift tests check the analyser against
/// images that script drew, so a drift between the two shows up as a failing test.
public enum ShapeWorld {
    public static let imageSize = 64

    /// The eight colours, by name, with the RGB values the dataset's pixels hold.
    public static let palette: [(name: String, rgb: SIMD3<Float>)] = [
        ("red", [220, 30, 30]), ("green", [30, 170, 50]), ("blue", [30, 70, 230]), ("yellow", [245, 220, 30]),
        ("purple", [140, 50, 190]), ("orange", [250, 140, 20]), ("white", [245, 245, 245]), ("black", [20, 20, 20]),
    ]

    public static let shapes = ["circle", "square", "triangle", "star", "heart", "cross"]

    /// Radius (half the extent) in pixels of each size name.
    public static let sizes: [(name: String, radius: Float)] = [("small", 7), ("big", 13)]

    /// Position names of the 3x3 grid, row-major; a point's cell is the third of the image it falls in.
    public static let positions = ["top left", "top", "top right", "left", "centre", "right",
                                   "bottom left", "bottom", "bottom right"]

    public static func cell(x: Float, y: Float, width: Int = imageSize, height: Int = imageSize) -> String {
        let col = min(2, max(0, Int((x * 3 / Float(width)).rounded(.down))))
        let row = min(2, max(0, Int((y * 3 / Float(height)).rounded(.down))))
        return positions[row * 3 + col]
    }

    /// The nearest palette colour to an RGB value, optionally skipping one name (a shape never takes the
    /// background's colour).
    public static func nearestColour(_ rgb: SIMD3<Float>, excluding: String? = nil) -> String {
        var best = "", bestDistance = Float.infinity
        for (name, value) in palette where name != excluding {
            let d = value - rgb, distance = (d * d).sum()
            if distance < bestDistance { (best, bestDistance) = (name, distance) }
        }
        return best
    }

    static func rgb(of name: String) -> SIMD3<Float>? { palette.first { $0.name == name }?.rgb }

    // MARK: Outlines, in units of the radius, centred on the origin, y down (dataset.py's definitions).

    static let squareHalf: Float = 0.82
    static let crossArm: Float = 0.32
    static let triangle: [SIMD2<Float>] = [[0, -1], [0.95, 0.75], [-0.95, 0.75]]
    static let star: [SIMD2<Float>] = (0..<10).map { k in
        let r: Float = k % 2 == 0 ? 1 : 0.45
        let a = -Float.pi / 2 + Float(k) * Float.pi / 5
        return [r * cos(a), r * sin(a)]
    }
    static let heart: [SIMD2<Float>] = {
        let raw: [SIMD2<Float>] = (0..<64).map { k in
            let t = 2 * Double.pi * Double(k) / 64
            let x = 16 * pow(sin(t), 3)
            let y = 13 * cos(t) - 5 * cos(2 * t) - 2 * cos(3 * t) - cos(4 * t)
            return [Float(x), Float(-y)]
        }
        let ys = raw.map(\.y)
        let cy = (ys.max()! + ys.min()!) / 2, scale = max(16, (ys.max()! - ys.min()!) / 2)
        return raw.map { [$0.x / scale, ($0.y - cy) / scale] }
    }()

    /// Whether a point (radius units) lies inside a shape.
    static func contains(_ shape: String, _ p: SIMD2<Float>) -> Bool {
        switch shape {
        case "circle": return (p * p).sum() <= 1
        case "square": return abs(p.x) <= squareHalf && abs(p.y) <= squareHalf
        case "cross": return (abs(p.x) <= crossArm && abs(p.y) <= 1) || (abs(p.y) <= crossArm && abs(p.x) <= 1)
        case "triangle": return insidePolygon(triangle, p)
        case "star": return insidePolygon(star, p)
        case "heart": return insidePolygon(heart, p)
        default: return false
        }
    }

    /// The shape's extent (min x, min y, max x, max y) in radius units.
    static func extent(_ shape: String) -> SIMD4<Float> {
        switch shape {
        case "square": return [-squareHalf, -squareHalf, squareHalf, squareHalf]
        case "triangle": return bounds(triangle)
        case "star": return bounds(star)
        case "heart": return bounds(heart)
        default: return [-1, -1, 1, 1]
        }
    }

    private static func bounds(_ points: [SIMD2<Float>]) -> SIMD4<Float> {
        [points.map(\.x).min()!, points.map(\.y).min()!, points.map(\.x).max()!, points.map(\.y).max()!]
    }

    /// Even-odd rule.
    private static func insidePolygon(_ polygon: [SIMD2<Float>], _ p: SIMD2<Float>) -> Bool {
        var inside = false
        var j = polygon.count - 1
        for i in polygon.indices {
            let a = polygon[i], b = polygon[j]
            if (a.y > p.y) != (b.y > p.y), p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x { inside.toggle() }
            j = i
        }
        return inside
    }
}
