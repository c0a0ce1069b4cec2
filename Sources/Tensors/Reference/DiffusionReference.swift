import Foundation

/// Plain scalar twins of the Stable Diffusion kernels (Conv2D, GroupNorm, attention, upsampling, GELU),
/// written from the PyTorch definitions with double accumulation; the tests check the fast kernels
/// against these.
extension Reference {
    /// Direct convolution: out[b, o, y, x] = bias[o] + Σ_{c,ky,kx} w[o, c, ky, kx]·in[b, c, y·s − padTop + ky, x·s − padLeft + kx].
    public static func conv2d(_ input: [Float], batch: Int, height: Int, width: Int, weight: [Float], bias: [Float]?,
                              geometry g: Conv2DGeometry) -> [Float] {
        let (oh, ow) = g.outputSize(height: height, width: width)
        var out = [Float](repeating: 0, count: batch * g.outChannels * oh * ow)
        for b in 0..<batch {
            for o in 0..<g.outChannels {
                for y in 0..<oh {
                    for x in 0..<ow {
                        var acc = Double(bias?[o] ?? 0)
                        for c in 0..<g.inChannels {
                            for ky in 0..<g.kernelHeight {
                                let iy = y * g.stride - g.padTop + ky
                                if iy < 0 || iy >= height { continue }
                                for kx in 0..<g.kernelWidth {
                                    let ix = x * g.stride - g.padLeft + kx
                                    if ix < 0 || ix >= width { continue }
                                    let wv = weight[((o * g.inChannels + c) * g.kernelHeight + ky) * g.kernelWidth + kx]
                                    acc += Double(wv) * Double(input[((b * g.inChannels + c) * height + iy) * width + ix])
                                }
                            }
                        }
                        out[((b * g.outChannels + o) * oh + y) * ow + x] = Float(acc)
                    }
                }
            }
        }
        return out
    }

    public static func groupNorm(_ x: [Float], batch: Int, channels: Int, spatial: Int, groups: Int, eps: Float,
                                 weight: [Float], bias: [Float], silu: Bool) -> [Float] {
        var y = x
        let per = channels / groups
        for b in 0..<batch {
            for g in 0..<groups {
                let base = (b * channels + g * per) * spatial, n = per * spatial
                var mean = 0.0
                for i in 0..<n { mean += Double(x[base + i]) }
                mean /= Double(n)
                var variance = 0.0
                for i in 0..<n { let d = Double(x[base + i]) - mean; variance += d * d }
                variance /= Double(n)
                for c in 0..<per {
                    let ch = g * per + c
                    for i in 0..<spatial {
                        let j = base + c * spatial + i
                        var v = (Double(x[j]) - mean) / (variance + Double(eps)).squareRoot() * Double(weight[ch]) + Double(bias[ch])
                        if silu { v = v / (1 + Foundation.exp(-v)) }
                        y[j] = Float(v)
                    }
                }
            }
        }
        return y
    }

    /// softmax(scale·Q·Kᵀ)·V per head; q, k, v, out are [positions, heads·headDim].
    public static func attention(q: [Float], k: [Float], v: [Float], queries: Int, keys: Int, heads: Int, headDim: Int,
                                 scale: Float, causal: Bool) -> [Float] {
        let dim = heads * headDim
        var out = [Float](repeating: 0, count: queries * dim)
        for h in 0..<heads {
            for i in 0..<queries {
                var scores = [Double](repeating: -Double.infinity, count: keys)
                for j in 0..<keys where !causal || j <= i {
                    var acc = 0.0
                    for d in 0..<headDim { acc += Double(q[i * dim + h * headDim + d]) * Double(k[j * dim + h * headDim + d]) }
                    scores[j] = acc * Double(scale)
                }
                let m = scores.max()!
                let e = scores.map { Foundation.exp($0 - m) }
                let sum = e.reduce(0, +)
                for d in 0..<headDim {
                    var acc = 0.0
                    for j in 0..<keys { acc += e[j] / sum * Double(v[j * dim + h * headDim + d]) }
                    out[i * dim + h * headDim + d] = Float(acc)
                }
            }
        }
        return out
    }

    public static func upsampleNearest(_ x: [Float], planes: Int, height: Int, width: Int, outHeight: Int, outWidth: Int) -> [Float] {
        var y = [Float](repeating: 0, count: planes * outHeight * outWidth)
        for p in 0..<planes {
            for oy in 0..<outHeight {
                for ox in 0..<outWidth {
                    let iy = min(oy * height / outHeight, height - 1), ix = min(ox * width / outWidth, width - 1)
                    y[(p * outHeight + oy) * outWidth + ox] = x[(p * height + iy) * width + ix]
                }
            }
        }
        return y
    }

    public static func gelu(_ x: [Float]) -> [Float] {
        x.map { v in Float(0.5 * Double(v) * (1 + Foundation.erf(Double(v) / 2.0.squareRoot()))) }
    }

    public static func quickGELU(_ x: [Float]) -> [Float] {
        x.map { v in Float(Double(v) / (1 + Foundation.exp(-1.702 * Double(v)))) }
    }
}
