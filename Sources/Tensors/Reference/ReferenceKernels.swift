import Foundation

/// Plain scalar twins of the fast kernels: the tests check each fast path against these.
public enum Reference {
    /// y[b, r] = Σ_k x[b, k] · W[r, k], with W already Float32 [rows, cols].
    public static func matmul(_ w: [Float], rows: Int, cols: Int, _ x: [Float], batch: Int) -> [Float] {
        var y = [Float](repeating: 0, count: batch * rows)
        for b in 0..<batch {
            for r in 0..<rows {
                var acc: Double = 0
                for k in 0..<cols { acc += Double(w[r * cols + k]) * Double(x[b * cols + k]) }
                y[b * rows + r] = Float(acc)
            }
        }
        return y
    }

    public static func rmsNorm(_ x: [Float], _ weight: [Float], eps: Float) -> [Float] {
        let dim = weight.count
        var y = x
        for r in 0..<(x.count / dim) {
            var ss: Double = 0
            for j in 0..<dim { ss += Double(x[r * dim + j] * x[r * dim + j]) }
            let scale = 1 / (Float(ss / Double(dim)) + eps).squareRoot()
            for j in 0..<dim { y[r * dim + j] = x[r * dim + j] * scale * weight[j] }
        }
        return y
    }

    public static func softmax(_ x: [Float]) -> [Float] {
        let m = x.max() ?? 0
        let e = x.map { Foundation.exp(Double($0 - m)) }
        let s = e.reduce(0, +)
        return e.map { Float($0 / s) }
    }

    /// RoPE for one head vector at `position`, computed from the definition.
    public static func rope(_ x: [Float], position: Int, base: Float, layout: RoPELayout) -> [Float] {
        let d = x.count, half = d / 2
        var y = x
        for i in 0..<half {
            let theta = Double(position) / pow(Double(base), Double(2 * i) / Double(d))
            let c = Foundation.cos(theta), s = Foundation.sin(theta)
            let (ia, ib) = layout == .normal ? (2 * i, 2 * i + 1) : (i, i + half)
            let a = Double(x[ia]), b = Double(x[ib])
            y[ia] = Float(a * c - b * s)
            y[ib] = Float(a * s + b * c)
        }
        return y
    }
}
