/// RMSNorm over the last dimension, as LlamaRMSNorm: y = x / sqrt(mean(x²) + eps) * weight.
/// x and y are [rows, dim]; they may alias.
public func rmsNorm(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                    rows: Int, dim: Int, eps: Float) {
    Parallel.forRanges(rows, grain: 4) { range in
        for r in range {
            let xr = x + r * dim, yr = y + r * dim
            var sum = SIMD8<Float>()
            var i = 0
            while i + 8 <= dim {
                let v = UnsafeRawPointer(xr + i).loadUnaligned(as: SIMD8<Float>.self)
                sum += v * v
                i += 8
            }
            var ss = sum.sum()
            while i < dim { ss += xr[i] * xr[i]; i += 1 }
            let scale = 1 / (ss / Float(dim) + eps).squareRoot()
            for j in 0..<dim { yr[j] = xr[j] * scale * weight[j] }
        }
    }
}

/// LayerNorm over the last dimension: y = (x - mean) / sqrt(var + eps) * weight + bias.
public func layerNorm(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>?, _ bias: UnsafePointer<Float>?,
                      _ y: UnsafeMutablePointer<Float>, rows: Int, dim: Int, eps: Float) {
    Parallel.forRanges(rows, grain: 4) { range in
        for r in range {
            let xr = x + r * dim, yr = y + r * dim
            var mean: Float = 0
            for j in 0..<dim { mean += xr[j] }
            mean /= Float(dim)
            var variance: Float = 0
            for j in 0..<dim { let d = xr[j] - mean; variance += d * d }
            variance /= Float(dim)
            let inv = 1 / (variance + eps).squareRoot()
            for j in 0..<dim {
                var v = (xr[j] - mean) * inv
                if let weight { v *= weight[j] }
                if let bias { v += bias[j] }
                yr[j] = v
            }
        }
    }
}
