// Port of transformers' CLIPImageProcessor (transformers 5.24.0; its PIL backend, CLIPImageProcessorPil, which
// resizes with Pillow) and of Pillow's ImagingResample for 8-bit images (libImaging/Resample.c, Pillow 13.0.0).
import Foundation
import Tensors

/// Turns an RGB image into CLIP's pixel_values [3, H, W]: resize (shortest edge to `size`, aspect kept, with
/// Pillow's antialiased filter), centre crop (zero-padding an image smaller than the crop), rescale (× 1/255) and
/// normalise ((x − mean) / std per channel), each step switched by its do_* flag, as preprocessor_config.json says.
public struct CLIPImageProcessor: Sendable, Equatable {
    /// transformers' `size`: the shortest edge (aspect ratio kept) or an exact height and width.
    public enum Size: Sendable, Equatable {
        case shortestEdge(Int)
        case exact(height: Int, width: Int)
    }

    /// Pillow's resampling filters Easel implements, by Pillow's number (PILImageResampling).
    public enum Resample: Int, Sendable, Equatable {
        case bilinear = 2, bicubic = 3

        /// Half-width of the filter at scale 1.
        var support: Double { self == .bicubic ? 2 : 1 }

        /// Pillow's bilinear (triangle) and bicubic (Keys, a = −0.5) kernels.
        func weight(_ t: Double) -> Double {
            let x = abs(t)
            switch self {
            case .bilinear:
                return x < 1 ? 1 - x : 0
            case .bicubic:
                let a = -0.5
                if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
                return 0
            }
        }
    }

    public var doResize = true
    public var size = Size.shortestEdge(224)
    public var resample = Resample.bicubic
    public var doCenterCrop = true
    public var cropHeight = 224
    public var cropWidth = 224
    public var doRescale = true
    public var rescaleFactor = 1.0 / 255.0
    public var doNormalize = true
    /// OpenAI CLIP's statistics, transformers' OPENAI_CLIP_MEAN / OPENAI_CLIP_STD.
    public var imageMean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    public var imageStd: [Float] = [0.26862954, 0.26130258, 0.27577711]

    /// Largest side a config may ask for, and largest resized image (pixels) an input may lead to: a 1×4000
    /// strip resized to shortest edge 224 would otherwise ask for 224×896000.
    static let maxSide = 8192
    static let maxResizedPixels = 64 << 20

    /// CLIP's defaults (openai/clip-vit-*-patch14 at 224): shortest edge 224, bicubic, crop 224×224.
    public init() {}

    /// Reads a preprocessor_config.json. Keys left out keep CLIP's defaults; `size` and `crop_size` may be plain
    /// ints, as in openai/clip-vit-large-patch14's file (`size` then means the shortest edge, `crop_size` a square).
    public init(contentsOf url: URL) throws {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DiffusionError.badConfig(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
              let o = json as? [String: Any] else {
            throw DiffusionError.badConfig(path: path, reason: "not a JSON object")
        }
        func fail(_ key: String, _ why: String) -> DiffusionError { .badConfig(path: path, reason: "\(key): \(why)") }
        func bool(_ key: String, _ d: Bool) throws -> Bool {
            guard let v = o[key], !(v is NSNull) else { return d }
            guard let b = v as? Bool else { throw fail(key, "expected true or false") }
            return b
        }
        func int(_ v: Any, _ key: String) throws -> Int {
            guard let n = v as? NSNumber, !(v is Bool), let i = Int(exactly: n.doubleValue),
                  i > 0, i <= Self.maxSide else {
                throw fail(key, "expected a whole number of pixels in 1...\(Self.maxSide), got \(v)")
            }
            return i
        }
        func floats(_ key: String, _ d: [Float]) throws -> [Float] {
            guard let v = o[key], !(v is NSNull) else { return d }
            if let n = v as? NSNumber, !(v is Bool) { return [Float](repeating: n.floatValue, count: 3) }
            guard let a = v as? [Any], a.count == 3, let ns = a as? [NSNumber] else {
                throw fail(key, "expected a number or 3 numbers (one per RGB channel)")
            }
            return ns.map(\.floatValue)
        }
        doResize = try bool("do_resize", doResize)
        doCenterCrop = try bool("do_center_crop", doCenterCrop)
        doRescale = try bool("do_rescale", doRescale)
        doNormalize = try bool("do_normalize", doNormalize)
        if let v = o["size"], !(v is NSNull) {
            if let d = v as? [String: Any] {
                if let edge = d["shortest_edge"], !(edge is NSNull) {
                    if let longest = d["longest_edge"], !(longest is NSNull) {
                        throw fail("size", "longest_edge is not supported (CLIP uses shortest_edge alone)")
                    }
                    size = .shortestEdge(try int(edge, "size.shortest_edge"))
                } else if let h = d["height"], let w = d["width"] {
                    size = .exact(height: try int(h, "size.height"), width: try int(w, "size.width"))
                } else {
                    throw fail("size", "expected shortest_edge or height and width, got keys \(d.keys.sorted())")
                }
            } else {
                size = .shortestEdge(try int(v, "size"))
            }
        }
        if let v = o["crop_size"], !(v is NSNull) {
            if let d = v as? [String: Any] {
                guard let h = d["height"], let w = d["width"] else {
                    throw fail("crop_size", "expected height and width, got keys \(d.keys.sorted())")
                }
                cropHeight = try int(h, "crop_size.height")
                cropWidth = try int(w, "crop_size.width")
            } else {
                cropHeight = try int(v, "crop_size")
                cropWidth = cropHeight
            }
        }
        if let v = o["resample"], !(v is NSNull) {
            guard let n = v as? NSNumber, !(v is Bool), let r = Resample(rawValue: n.intValue) else {
                throw DiffusionError.unsupported(component: path, key: "resample",
                                                 value: "\(v) (Easel has Pillow's 2 = bilinear and 3 = bicubic)")
            }
            resample = r
        }
        if let v = o["rescale_factor"], !(v is NSNull) {
            guard let n = v as? NSNumber, !(v is Bool), n.doubleValue.isFinite else { throw fail("rescale_factor", "expected a number") }
            rescaleFactor = n.doubleValue
        }
        imageMean = try floats("image_mean", imageMean)
        imageStd = try floats("image_std", imageStd)
        guard imageMean.allSatisfy(\.isFinite), imageStd.allSatisfy({ $0.isFinite && $0 != 0 }) else {
            throw fail("image_mean / image_std", "must be finite, and the standard deviations non-zero")
        }
    }

    /// preprocessor_config.json in `directory`, or CLIP's defaults when the folder has none.
    public init(directory: URL) throws {
        let url = directory.appendingPathComponent("preprocessor_config.json")
        if FileManager.default.fileExists(atPath: url.path) { try self.init(contentsOf: url) } else { self.init() }
    }

    /// (height, width) after the resize step, as transformers' get_resize_output_image_size computes it: the short
    /// side becomes `size`, the long side int(size · long / short), truncated.
    public func resizedSize(height: Int, width: Int) -> (height: Int, width: Int) {
        switch size {
        case .exact(let h, let w):
            return (h, w)
        case .shortestEdge(let edge):
            let (short, long) = width <= height ? (width, height) : (height, width)
            let newLong = Int(Double(edge * long) / Double(short))
            return width <= height ? (newLong, edge) : (edge, newLong)
        }
    }

    /// pixel_values [3, H, W] of one image: H × W is the crop size, or the resized size without cropping.
    public func callAsFunction(_ image: RGBImage) throws -> Tensor {
        guard image.width > 0, image.height > 0 else {
            throw DiffusionError.badInput("CLIP image processor got an empty \(image.width)x\(image.height) image")
        }
        var img = image
        if doResize {
            let (h, w) = resizedSize(height: image.height, width: image.width)
            guard h > 0, w > 0, h <= Self.maxResizedPixels / w else {
                throw DiffusionError.badInput("resizing a \(image.width)x\(image.height) image to \(size) gives \(w)x\(h), "
                                              + "over the \(Self.maxResizedPixels)-pixel limit")
            }
            img = Self.resize(image, width: w, height: h, filter: resample)
        }
        let outH = doCenterCrop ? cropHeight : img.height, outW = doCenterCrop ? cropWidth : img.width
        guard outH > 0, outW > 0, outH <= Self.maxSide, outW <= Self.maxSide, imageMean.count == 3, imageStd.count == 3 else {
            throw DiffusionError.badInput("CLIP image processor: crop \(cropHeight)x\(cropWidth) or statistics "
                                          + "\(imageMean) / \(imageStd) are not a valid setting")
        }
        // transformers' center_crop: top = (H − h) // 2 (floor), and an image smaller than the crop is first
        // zero-padded by ceil((h − H) / 2) above, so the crop then starts at its first row; likewise for columns.
        let top = img.height >= outH ? (img.height - outH) / 2 : -((outH - img.height + 1) / 2)
        let left = img.width >= outW ? (img.width - outW) / 2 : -((outW - img.width + 1) / 2)
        let out = Tensor(shape: [3, outH, outW])
        let plane = outH * outW
        let mean = doNormalize ? imageMean : [0, 0, 0], std = doNormalize ? imageStd : [1, 1, 1]
        img.pixels.withUnsafeBufferPointer { px in
            for y in 0..<outH {
                let sy = y + top
                for x in 0..<outW {
                    let sx = x + left
                    let inside = sy >= 0 && sy < img.height && sx >= 0 && sx < img.width
                    for ch in 0..<3 {
                        let byte = inside ? px[(sy * img.width + sx) * 3 + ch] : 0
                        // numpy: uint8 → float64 × rescale_factor → float32, then (x − mean) / std in float32.
                        let v = doRescale ? Float(Double(byte) * rescaleFactor) : Float(byte)
                        out.data[ch * plane + y * outW + x] = doNormalize ? (v - mean[ch]) / std[ch] : v
                    }
                }
            }
        }
        return out
    }

    // MARK: Pillow's resampling

    /// Pillow's fixed-point precision for 8-bit images: 32 bits less 8 for the pixel and 2 for headroom.
    static let precisionBits = 22

    /// One axis of a resample: for output index i, the input span bounds[i] and `ksize` fixed-point weights
    /// (Pillow's precompute_coeffs + normalize_coeffs_8bpc).
    struct Coefficients {
        let ksize: Int
        let bounds: [(start: Int, count: Int)]
        let weights: [Int32]   // [outSize, ksize]

        init(inSize: Int, outSize: Int, filter: Resample) {
            let scale = Double(inSize) / Double(outSize)
            // Downscaling stretches the filter over `scale` input pixels: the antialiasing.
            let filterScale = max(scale, 1)
            let support = filter.support * filterScale
            let invScale = 1 / filterScale   // Pillow multiplies by the reciprocal; dividing can round differently
            ksize = Int(support.rounded(.up)) * 2 + 1
            var bounds: [(Int, Int)] = []
            var weights = [Int32](repeating: 0, count: outSize * ksize)
            let one = Double(1 << CLIPImageProcessor.precisionBits)
            for i in 0..<outSize {
                let center = (Double(i) + 0.5) * scale
                // C's (int) cast truncates toward zero; negative starts are then clamped to 0 anyway.
                let start = max(Int(center - support + 0.5), 0)
                let end = min(Int(center + support + 0.5), inSize)
                let n = end - start
                var k = [Double](repeating: 0, count: n)
                var sum = 0.0
                for j in 0..<n {
                    k[j] = filter.weight((Double(j + start) - center + 0.5) * invScale)
                    sum += k[j]
                }
                for j in 0..<n {
                    let w = sum != 0 ? k[j] / sum : k[j]
                    weights[i * ksize + j] = Int32(w < 0 ? -0.5 + w * one : 0.5 + w * one)
                }
                bounds.append((start, n))
            }
            self.bounds = bounds
            self.weights = weights
        }
    }

    /// Pillow's round-and-clamp from fixed point to a byte.
    @inline(__always) static func clip8(_ sum: Int) -> UInt8 {
        UInt8(clamping: sum >> precisionBits)
    }

    /// Pillow's `Image.resize(size, resample)` of an RGB image: a horizontal pass, then a vertical one, each
    /// skipped when that side keeps its length (so an image already at the size comes back unchanged), each
    /// rounding to 8 bits, with Pillow's fixed-point arithmetic, so results match Pillow byte for byte.
    static func resize(_ image: RGBImage, width: Int, height: Int, filter: Resample) -> RGBImage {
        var img = image
        let half = 1 << (precisionBits - 1)
        if width != img.width {
            let c = Coefficients(inSize: img.width, outSize: width, filter: filter)
            var out = [UInt8](repeating: 0, count: width * img.height * 3)
            img.pixels.withUnsafeBufferPointer { src in
                for y in 0..<img.height {
                    let row = y * img.width * 3
                    for x in 0..<width {
                        let (start, n) = c.bounds[x]
                        var s0 = half, s1 = half, s2 = half
                        for j in 0..<n {
                            let k = Int(c.weights[x * c.ksize + j]), p = row + (start + j) * 3
                            s0 += Int(src[p]) * k; s1 += Int(src[p + 1]) * k; s2 += Int(src[p + 2]) * k
                        }
                        let o = (y * width + x) * 3
                        out[o] = clip8(s0); out[o + 1] = clip8(s1); out[o + 2] = clip8(s2)
                    }
                }
            }
            img = RGBImage(width: width, height: img.height, pixels: out)
        }
        if height != img.height {
            let c = Coefficients(inSize: img.height, outSize: height, filter: filter)
            var out = [UInt8](repeating: 0, count: img.width * height * 3)
            let w = img.width
            img.pixels.withUnsafeBufferPointer { src in
                for y in 0..<height {
                    let (start, n) = c.bounds[y]
                    for x in 0..<w {
                        var s0 = half, s1 = half, s2 = half
                        for j in 0..<n {
                            let k = Int(c.weights[y * c.ksize + j]), p = ((start + j) * w + x) * 3
                            s0 += Int(src[p]) * k; s1 += Int(src[p + 1]) * k; s2 += Int(src[p + 2]) * k
                        }
                        let o = (y * w + x) * 3
                        out[o] = clip8(s0); out[o + 1] = clip8(s1); out[o + 2] = clip8(s2)
                    }
                }
            }
            img = RGBImage(width: w, height: height, pixels: out)
        }
        return img
    }
}
