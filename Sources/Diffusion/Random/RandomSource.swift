import Foundation
import Tensors

/// Where the pipeline's Gaussian noise comes from: initial latents and the noise of ancestral/eta steps.
/// Each `normal(count:)` call is one `torch.randn(count)` worth of draws, so a source that reproduces
/// PyTorch reproduces diffusers' images for the same seed.
public protocol RandomSource {
    mutating func normal(count: Int) -> [Float]
    /// How the metadata names this source ("torch" or "easel").
    var name: String { get }
}

extension RandomSource {
    public mutating func normal(shape: [Int]) -> Tensor {
        Tensor(shape: shape, values: normal(count: shape.reduce(1, *)))
    }
}

/// The CLI's `--rng`.
public enum RandomSourceKind: String, CaseIterable, Sendable {
    case torch, easel

    public func make(seed: UInt64) -> any RandomSource {
        switch self {
        case .torch: TorchRandomSource(seed: seed)
        case .easel: EaselRandomSource(seed: seed)
        }
    }
}

/// Easel's own source: SplitMix64 and the Box–Muller transform in double precision. Simpler and faster
/// than mt19937, identical on every machine, but its images differ from diffusers' for the same seed.
public struct EaselRandomSource: RandomSource {
    var state: UInt64
    public var name: String { "easel" }

    public init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in (0, 1]: 53 random bits, offset so log never sees 0.
    mutating func uniform() -> Double { (Double(next() >> 11) + 1) * 0x1p-53 }

    public mutating func normal(count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        var i = 0
        while i < count {
            let r = (-2 * log(uniform())).squareRoot(), theta = 2 * Double.pi * uniform()
            out[i] = Float(r * cos(theta))
            if i + 1 < count { out[i + 1] = Float(r * sin(theta)) }
            i += 2
        }
        return out
    }
}
