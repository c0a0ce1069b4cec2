import Foundation

/// GELU with the exact erf form, torch's default `F.gelu`: x·½(1 + erf(x/√2)).
public func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
    Parallel.forRanges(count, grain: 16384) { range in
        for i in range { let v = x[i]; x[i] = 0.5 * v * (1 + erff(v * 0.70710678118654752)) }
    }
}

/// CLIP's quick GELU: x·σ(1.702x) (OpenAI's CLIP, `hidden_act: quick_gelu`).
public func quickGELU(_ x: UnsafeMutablePointer<Float>, count: Int) {
    Parallel.forRanges(count, grain: 16384) { range in
        for i in range { let v = x[i]; x[i] = v / (1 + expf(-1.702 * v)) }
    }
}

/// GEGLU of diffusers' FeedForward: the projection [rows, 2·inner] holds (hidden, gate) halves;
/// out[r, j] = hidden[r, j]·gelu(gate[r, j]), written as [rows, inner].
public func geglu(_ projected: UnsafePointer<Float>, rows: Int, inner: Int, _ out: UnsafeMutablePointer<Float>) {
    Parallel.forRanges(rows, grain: 8) { range in
        for r in range {
            let h = projected + r * 2 * inner, g = h + inner, o = out + r * inner
            for j in 0..<inner {
                let v = g[j]
                o[j] = h[j] * (0.5 * v * (1 + erff(v * 0.70710678118654752)))
            }
        }
    }
}
