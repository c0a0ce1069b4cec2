// Reads back what an easel-mini picture shows: background, and each shape's colour, class, size and position.
import Diffusion
import Foundation

/// One shape found in a picture.
public struct DetectedObject: Codable, Equatable, Sendable {
    public var colour: String
    public var shape: String
    public var size: String
    public var position: String
    /// Centre of the fitted shape and its radius, in pixels of the analysed image.
    public var x: Float, y: Float, radius: Float
    /// Coverage-weighted area in pixels.
    public var area: Float
    /// Soft intersection-over-union of the pixels with the best-fitting shape outline (1 = exact).
    public var fit: Float
}

public struct SceneAnalysis: Codable, Equatable, Sendable {
    public var background: String
    /// Largest first.
    public var objects: [DetectedObject]
}

/// A deterministic reader for the synthetic domain (ShapeWorld): no learning, so it can judge any model's
/// drawings, including the pixels of the dataset itself (where the tests require ≥ 98% agreement).
///
/// Background: the median colour of the border. Objects: 4-connected regions of pixels far from the
/// background; a region's colour is the median of its most saturated pixels (edges blend two colours and can
/// sit near a third palette entry), its coverage of each pixel is the projection onto that colour, and its
/// shape is the outline that, fitted to the region's box, overlaps the coverage best.
public struct SceneAnalyser: Sendable {
    /// RGB distance from the background beyond which a pixel may belong to a shape: half the distance of
    /// the two closest palette colours (orange and yellow, 80 apart), so a shape edge splits at 50% coverage.
    public var foregroundDistance: Float = 40
    /// Regions covering fewer pixels are noise (the smallest shape, a small star, covers ~65).
    public var minimumArea: Float = 12
    public var maximumObjects = 4

    public init() {}

    public func analyse(_ image: RGBImage) -> SceneAnalysis {
        let w = image.width, h = image.height
        guard w >= 3, h >= 3 else { return SceneAnalysis(background: "", objects: []) }
        let pixels = image.pixels.map(Float.init)
        func rgb(_ i: Int) -> SIMD3<Float> { [pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]] }

        var border: [SIMD3<Float>] = []
        for x in 0..<w { border.append(rgb(x)); border.append(rgb((h - 1) * w + x)) }
        for y in 1..<(h - 1) { border.append(rgb(y * w)); border.append(rgb(y * w + w - 1)) }
        let background = median(border)
        let backgroundName = ShapeWorld.nearestColour(background)

        let distance = (0..<(w * h)).map { i -> Float in let d = rgb(i) - background; return (d * d).sum().squareRoot() }
        let labels = components(w: w, h: h) { distance[$0] > foregroundDistance }

        var objects: [DetectedObject] = []
        for region in labels.regions {
            let peak = region.map { distance[$0] }.max() ?? 0
            let core = region.filter { distance[$0] >= 0.75 * peak }.map(rgb)
            let colourRGB = median(core)
            let direction = colourRGB - background
            let norm = (direction * direction).sum()
            guard norm > 0 else { continue }
            // Coverage over the region's box grown by 2 pixels; pixels of other regions count as uncovered.
            var x0 = w, y0 = h, x1 = 0, y1 = 0
            for i in region { x0 = min(x0, i % w); x1 = max(x1, i % w + 1); y0 = min(y0, i / w); y1 = max(y1, i / w + 1) }
            let box = (x: max(0, x0 - 2), y: max(0, y0 - 2), xEnd: min(w, x1 + 2), yEnd: min(h, y1 + 2))
            let label = labels.label[region[0]]
            var alpha = [Float](repeating: 0, count: (box.xEnd - box.x) * (box.yEnd - box.y))
            var area: Float = 0
            var bx0 = w, by0 = h, bx1 = 0, by1 = 0
            for y in box.y..<box.yEnd {
                for x in box.x..<box.xEnd {
                    let i = y * w + x
                    guard labels.label[i] == label || labels.label[i] == 0 else { continue }
                    let a = min(1, max(0, ((rgb(i) - background) * direction).sum() / norm))
                    alpha[(y - box.y) * (box.xEnd - box.x) + (x - box.x)] = a
                    area += a
                    if a >= 0.5 { bx0 = min(bx0, x); bx1 = max(bx1, x + 1); by0 = min(by0, y); by1 = max(by1, y + 1) }
                }
            }
            guard area >= minimumArea * Float(w * h) / Float(ShapeWorld.imageSize * ShapeWorld.imageSize),
                  bx1 > bx0, by1 > by0 else { continue }
            let fit = bestShape(alpha: alpha, box: box, extent: (Float(bx0), Float(by0), Float(bx1), Float(by1)))
            // Sizes and cells are defined on the 64x64 grid; other image sizes are judged in proportion.
            let unit = Float(min(w, h)) / Float(ShapeWorld.imageSize)
            let size = ShapeWorld.sizes.min { abs($0.radius * unit - fit.radius) < abs($1.radius * unit - fit.radius) }!
            objects.append(DetectedObject(
                colour: ShapeWorld.nearestColour(colourRGB, excluding: backgroundName), shape: fit.shape, size: size.name,
                position: ShapeWorld.cell(x: fit.x, y: fit.y, width: w, height: h),
                x: fit.x, y: fit.y, radius: fit.radius, area: area, fit: fit.score))
        }
        objects.sort { $0.area > $1.area }
        return SceneAnalysis(background: backgroundName, objects: Array(objects.prefix(maximumObjects)))
    }

    /// Fits each outline to the region's extent (its box where coverage ≥ 50%) and keeps the best overlap.
    private func bestShape(alpha: [Float], box: (x: Int, y: Int, xEnd: Int, yEnd: Int),
                           extent: (x0: Float, y0: Float, x1: Float, y1: Float))
        -> (shape: String, x: Float, y: Float, radius: Float, score: Float) {
        let bw = box.xEnd - box.x
        var best: (shape: String, x: Float, y: Float, radius: Float, score: Float) = ("", 0, 0, 0, -1)
        for shape in ShapeWorld.shapes {
            let e = ShapeWorld.extent(shape)
            let radius = ((extent.x1 - extent.x0) / (e.z - e.x) + (extent.y1 - extent.y0) / (e.w - e.y)) / 2
            let cx = (extent.x0 + extent.x1) / 2 - radius * (e.x + e.z) / 2
            let cy = (extent.y0 + extent.y1) / 2 - radius * (e.y + e.w) / 2
            var overlap: Float = 0, union: Float = 0
            for y in box.y..<box.yEnd {
                for x in box.x..<box.xEnd {
                    var inside = 0
                    for sy in 0..<Self.supersample {
                        for sx in 0..<Self.supersample {
                            let p = SIMD2<Float>(Float(x) + (Float(sx) + 0.5) / Float(Self.supersample) - cx,
                                                 Float(y) + (Float(sy) + 0.5) / Float(Self.supersample) - cy) / radius
                            if ShapeWorld.contains(shape, p) { inside += 1 }
                        }
                    }
                    let m = Float(inside) / Float(Self.supersample * Self.supersample)
                    let a = alpha[(y - box.y) * bw + (x - box.x)]
                    overlap += min(a, m)
                    union += max(a, m)
                }
            }
            let score = union > 0 ? overlap / union : 0
            if score > best.score { best = (shape, cx, cy, radius, score) }
        }
        return best
    }

    static let supersample = 4

    /// 4-connected regions of the pixels `inside` selects; labels start at 1 (0 = outside).
    private func components(w: Int, h: Int, inside: (Int) -> Bool) -> (label: [Int], regions: [[Int]]) {
        var label = [Int](repeating: 0, count: w * h)
        var regions: [[Int]] = []
        for start in 0..<(w * h) where label[start] == 0 && inside(start) {
            let id = regions.count + 1
            var region = [start], stack = [start]
            label[start] = id
            while let i = stack.popLast() {
                let x = i % w, y = i / w
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] where nx >= 0 && nx < w && ny >= 0 && ny < h {
                    let j = ny * w + nx
                    if label[j] == 0 && inside(j) { label[j] = id; region.append(j); stack.append(j) }
                }
            }
            regions.append(region)
        }
        return (label, regions)
    }

    /// Per-channel median.
    private func median(_ values: [SIMD3<Float>]) -> SIMD3<Float> {
        guard !values.isEmpty else { return .zero }
        func mid(_ c: [Float]) -> Float { let s = c.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
        return [mid(values.map(\.x)), mid(values.map(\.y)), mid(values.map(\.z))]
    }
}
