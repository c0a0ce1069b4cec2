import Foundation

/// Rotary position embedding layouts. `normal` rotates adjacent pairs (x[2i], x[2i+1]) — the layout
/// of GGUF LLaMA weights, whose Q/K rows llama.cpp's converter permuted. `neox` rotates the halves
/// (x[i], x[i+d/2]) — Hugging Face's `rotate_half`, GPT-NeoX and un-permuted HF weights.
public enum RoPELayout: Sendable { case normal, neox }

/// Precomputed cos/sin tables for positions 0..<maxPositions, with linear position scaling
/// (`rope_scaling: {type: linear, factor}` → positions divided by the factor).
public struct RoPETable: Sendable {
    public let headDim: Int
    public let rotaryDim: Int
    public let cos: [Float]   // [maxPositions, rotaryDim / 2]
    public let sin: [Float]

    public init(headDim: Int, rotaryDim: Int? = nil, base: Float, maxPositions: Int, positionScale: Float = 1,
                frequencyFactors: [Float]? = nil) {
        self.headDim = headDim
        let rd = rotaryDim ?? headDim
        self.rotaryDim = rd
        let half = rd / 2
        var c = [Float](repeating: 0, count: maxPositions * half)
        var s = c
        for i in 0..<half {
            // Computed in Double and rounded once: HF computes inv_freq in float32 then multiplies,
            // which differs from this by < 1 ulp of the angle at the positions a test reaches.
            var invFreq = 1 / pow(Double(base), Double(2 * i) / Double(rd))
            if let f = frequencyFactors, i < f.count { invFreq /= Double(f[i]) }
            for p in 0..<maxPositions {
                let angle = Double(p) * Double(positionScale) * invFreq
                c[p * half + i] = Float(Foundation.cos(angle))
                s[p * half + i] = Float(Foundation.sin(angle))
            }
        }
        cos = c
        sin = s
    }

    public var maxPositions: Int { cos.count / max(rotaryDim / 2, 1) }

    /// Rotates `heads` heads of one position in place; x is [heads, headDim].
    public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int, layout: RoPELayout) {
        let half = rotaryDim / 2
        precondition(position < maxPositions, "position \(position) beyond RoPE table of \(maxPositions)")
        cos.withUnsafeBufferPointer { cb in
            sin.withUnsafeBufferPointer { sb in
                let c = cb.baseAddress! + position * half, s = sb.baseAddress! + position * half
                for h in 0..<heads {
                    let v = x + h * headDim
                    switch layout {
                    case .normal:
                        for i in 0..<half {
                            let a = v[2 * i], b = v[2 * i + 1]
                            v[2 * i] = a * c[i] - b * s[i]
                            v[2 * i + 1] = a * s[i] + b * c[i]
                        }
                    case .neox:
                        for i in 0..<half {
                            let a = v[i], b = v[i + half]
                            v[i] = a * c[i] - b * s[i]
                            v[i + half] = a * s[i] + b * c[i]
                        }
                    }
                }
            }
        }
    }
}
