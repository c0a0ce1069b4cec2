import Foundation

/// GroupNorm over NCHW activations, as torch.nn.GroupNorm: channels split into `groups` groups, each
/// normalised over its channels × spatial positions, then scaled and shifted per channel. `silu` fuses the
/// SiLU that follows every GroupNorm in diffusers' ResnetBlock2D and in the UNet/VAE output heads.
/// x and y are [batch, channels, spatial] and may alias. Statistics are accumulated in double: a group of a
/// 512×512 VAE activation holds 1M values.
public func groupNorm(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, channels: Int,
                      spatial: Int, groups: Int, eps: Float, weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?,
                      silu: Bool = false) {
    precondition(groups > 0 && channels % groups == 0, "\(channels) channels in \(groups) groups")
    let perGroup = channels / groups
    Parallel.forRanges(batch * groups) { range in
        for bg in range {
            let b = bg / groups, gi = bg % groups
            let base = (b * channels + gi * perGroup) * spatial
            let n = perGroup * spatial
            let src = x + base
            var sum = SIMD8<Double>(), sumSq = SIMD8<Double>()
            var i = 0
            while i + 8 <= n {
                let v = SIMD8<Double>(UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self))
                sum += v
                sumSq += v * v
                i += 8
            }
            var s = sum.sum(), ss = sumSq.sum()
            while i < n { let v = Double(src[i]); s += v; ss += v * v; i += 1 }
            let mean = s / Double(n)
            let variance = max(ss / Double(n) - mean * mean, 0)
            let inv = Float(1 / (variance + Double(eps)).squareRoot())
            let m = Float(mean)
            for c in 0..<perGroup {
                let ch = gi * perGroup + c
                let scale = inv * (weight?[ch] ?? 1), shift = (bias?[ch] ?? 0) - m * scale
                let p = src + c * spatial, q = y + base + c * spatial
                let vs = SIMD8<Float>(repeating: scale), vb = SIMD8<Float>(repeating: shift)
                var j = 0
                while j + 8 <= spatial {
                    var v = UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self) * vs + vb
                    if silu { v = v / (1 + exp8(-v)) }
                    UnsafeMutableRawPointer(q + j).storeBytes(of: v, as: SIMD8<Float>.self)
                    j += 8
                }
                while j < spatial {
                    var v = p[j] * scale + shift
                    if silu { v = v / (1 + expf(-v)) }
                    q[j] = v
                    j += 1
                }
            }
        }
    }
}

/// eˣ for 8 lanes: e^x = 2ⁿ·eᶠ with n = round(x·log₂e) put into the exponent bits and eᶠ a degree-6
/// polynomial on [−ln2/2, ln2/2] (relative error < 2e-7 in float32), the usual Cephes-style reduction.
/// Inputs are clamped to [−87.3, 88.3], where float32 exp underflows or overflows anyway. The rounding
/// uses the 1.5·2²³ trick (adding it leaves n in the low mantissa bits), so everything stays in vector
/// registers: Swift's generic SIMD float→int conversion and `rounded` are scalar loops.
@inline(__always) public func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // Clamped with masks: `clamped(lowerBound:upperBound:)` is not inlined (a generic pointwiseMin/Max call).
    var clamped = x
    let lo = SIMD8<Float>(repeating: -87.3), hi = SIMD8<Float>(repeating: 88.3)
    clamped.replace(with: lo, where: clamped .< lo)
    clamped.replace(with: hi, where: clamped .> hi)
    let magic = SIMD8<Float>(repeating: 12_582_912)   // 1.5·2²³
    let shifted = clamped * 1.442695040888963 + magic
    let n = shifted - magic
    // Cody–Waite: ln 2 in two parts, so x − n·ln2 keeps its low bits for large |x|.
    let f = clamped - n * 0.693145751953125 - n * 1.428606820309417e-6   // f in [−ln2/2, ln2/2]
    var p = SIMD8<Float>(repeating: 1.0 / 720)
    p = p * f + 1.0 / 120
    p = p * f + 1.0 / 24
    p = p * f + 1.0 / 6
    p = p * f + 0.5
    p = p * f + 1
    p = p * f + 1
    let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = (integer &+ 127) &<< 23
    return p * unsafeBitCast(scale, to: SIMD8<Float>.self)
}
