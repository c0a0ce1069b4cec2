// Reproduces PyTorch's CPU generator (aten/src/ATen/core/MT19937RNGEngine.h, CPUGeneratorImpl.cpp and
// native/cpu/DistributionTemplates.h, torch 2.x) for `torch.randn(shape, generator=g)` in float32.
import Foundation

/// `torch.Generator().manual_seed(seed)` followed by `torch.randn` calls, draw for draw.
///
/// torch fills a contiguous float tensor of 16 or more values by `normal_fill`: first one 24-bit uniform per
/// element, then Box–Muller over blocks of 16 (u1 = 1 − data[j], u2 = data[j + 8] make data[j] = r·cos θ and
/// data[j + 8] = r·sin θ); when the size is not a multiple of 16 the last 16 values are drawn afresh and
/// transformed again. Fewer than 16 values go through the scalar `normal_distribution<double>`, which uses
/// two 53-bit uniforms per pair and caches the sine half for the next draw.
/// torch's AVX2 build evaluates the 16-block transform with SLEEF's float log/sin/cos (≤ 1 ulp); this
/// evaluates it in double and rounds, so values can differ from torch's in the last bit.
public struct TorchRandomSource: RandomSource {
    var engine: MT19937
    var cachedNormal: Double?
    public var name: String { "torch" }

    public init(seed: UInt64) {
        engine = MT19937(seed: UInt32(truncatingIfNeeded: seed))
    }

    /// at::uniform_real_distribution<float>(0, 1): the low 24 bits of one draw, times 2⁻²⁴.
    mutating func uniformFloat() -> Float { Float(engine.next() & 0xFF_FFFF) * 0x1p-24 }

    /// at::uniform_real_distribution<double>(0, 1): the low 53 bits of (first << 32 | second), times 2⁻⁵³.
    mutating func uniformDouble() -> Double {
        let hi = UInt64(engine.next()), lo = UInt64(engine.next())
        return Double(((hi << 32) | lo) & ((1 << 53) - 1)) * 0x1p-53
    }

    mutating func scalarNormal() -> Double {
        if let c = cachedNormal { cachedNormal = nil; return c }
        let u1 = uniformDouble(), u2 = uniformDouble()
        let r = (-2 * log1p(-u2)).squareRoot()
        let theta = 2 * Double.pi * u1
        cachedNormal = r * sin(theta)
        return r * cos(theta)
    }

    public mutating func normal(count: Int) -> [Float] {
        guard count >= 16 else { return (0..<count).map { _ in Float(scalarNormal()) } }
        var data = (0..<count).map { _ in uniformFloat() }
        data.withUnsafeMutableBufferPointer { buf in
            let p = buf.baseAddress!
            var i = 0
            while i + 16 <= count { Self.boxMuller16(p + i); i += 16 }
            if count % 16 != 0 {
                let tail = p + count - 16
                for j in 0..<16 { tail[j] = uniformFloat() }
                Self.boxMuller16(tail)
            }
        }
        return data
    }

    static func boxMuller16(_ d: UnsafeMutablePointer<Float>) {
        for j in 0..<8 {
            let u1 = 1 - d[j], u2 = d[j + 8]
            let radius = Float((-2 * log(Double(u1))).squareRoot())
            let theta = Float(2 * Double.pi) * u2
            d[j] = radius * Float(cos(Double(theta)))
            d[j + 8] = radius * Float(sin(Double(theta)))
        }
    }
}

/// The 32-bit Mersenne Twister (Matsumoto & Nishimura 1998), seeded as std::mt19937 and torch seed it.
struct MT19937 {
    var state = [UInt32](repeating: 0, count: 624)
    var index = 624

    init(seed: UInt32) {
        state[0] = seed
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
    }

    mutating func twist() {
        for i in 0..<624 {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
            var v = state[(i + 397) % 624] ^ (y >> 1)
            if y & 1 != 0 { v ^= 0x9908_B0DF }
            state[i] = v
        }
        index = 0
    }

    mutating func next() -> UInt32 {
        if index >= 624 { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }
}
