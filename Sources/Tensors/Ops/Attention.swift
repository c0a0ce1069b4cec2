import COpenBLAS
import Foundation

/// Reusable score buffer for `attention`, grown on demand.
public final class AttentionScratch: @unchecked Sendable {
    var scores: UnsafeMutablePointer<Float>?
    var capacity = 0
    var inverseSums: [Float] = []
    public init() {}
    func scores(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity { scores?.deallocate(); scores = .allocate(capacity: count); capacity = count }
        return scores!
    }
    public func release() { scores?.deallocate(); scores = nil; capacity = 0; inverseSums = [] }
    deinit { release() }
}

/// Largest block of attention scores held at once (4 MiB, about a core's L2): queries are processed in
/// blocks so a 4096 × 4096 self-attention never materialises more than this and the softmax pass over
/// the block stays in cache.
let maxScoreBlock = 1 << 20

/// Multi-head scaled dot-product attention through SGEMM, the layout of diffusers' `Attention` after its
/// projections: q [queries, heads·headDim] (row stride qStride), k and v [keys, heads·headDim] (strides
/// kStride, vStride), out [queries, heads·headDim] (stride outStride). For each head and block of queries,
/// S = scale·Q·Kᵀ, E = exp(S − rowmax) (float32), O = E·V, then each output row is divided by its row's
/// sum of E: the normalisation touches headDim values per row instead of every score. `causal` masks key
/// j > query i (CLIP's text transformer). Any key count works: cross-attention takes text states of any length.
public func attention(q: UnsafePointer<Float>, qStride: Int, k: UnsafePointer<Float>, kStride: Int,
                      v: UnsafePointer<Float>, vStride: Int, out: UnsafeMutablePointer<Float>, outStride: Int,
                      queries: Int, keys: Int, heads: Int, headDim: Int, scale: Float, causal: Bool = false,
                      scratch: AttentionScratch) {
    guard queries > 0, keys > 0 else { return }
    let block = max(1, min(queries, maxScoreBlock / keys))
    let s = scratch.scores(block * keys)
    if scratch.inverseSums.count < block { scratch.inverseSums = [Float](repeating: 0, count: block) }
    for h in 0..<heads {
        var q0 = 0
        while q0 < queries {
            let m = min(block, queries - q0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(keys), Int32(headDim),
                        scale, q + q0 * qStride + h * headDim, Int32(qStride), k + h * headDim, Int32(kStride),
                        0, s, Int32(keys))
            let start = q0
            scratch.inverseSums.withUnsafeMutableBufferPointer { inv in
                let invSums = inv.baseAddress!
                Parallel.forRanges(m, grain: 16) { range in
                    for r in range {
                        let row = s + r * keys
                        let visible = causal ? min(keys, start + r + 1) : keys
                        invSums[r] = 1 / expRow(row, count: visible)
                        if visible < keys { (row + visible).update(repeating: 0, count: keys - visible) }
                    }
                }
                let o = out + q0 * outStride + h * headDim
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(headDim), Int32(keys),
                            1, s, Int32(keys), v + h * headDim, Int32(vStride), 0, o, Int32(outStride))
                for r in 0..<m {
                    let row = o + r * outStride, scale = invSums[r]
                    for d in 0..<headDim { row[d] *= scale }
                }
            }
            q0 += m
        }
    }
}

/// Replaces one row by exp(x − max(x)), 8 lanes at a time with `exp8`, and returns the row's sum.
@inline(__always) func expRow(_ row: UnsafeMutablePointer<Float>, count: Int) -> Float {
    var mv = SIMD8<Float>(repeating: -.infinity)
    var i = 0
    while i + 8 <= count {
        let v = UnsafeRawPointer(row + i).loadUnaligned(as: SIMD8<Float>.self)
        mv.replace(with: v, where: v .> mv)
        i += 8
    }
    var m = mv.max()
    while i < count { m = max(m, row[i]); i += 1 }
    let vm = SIMD8<Float>(repeating: m)
    var sv = SIMD8<Float>()
    i = 0
    while i + 8 <= count {
        let e = exp8(UnsafeRawPointer(row + i).loadUnaligned(as: SIMD8<Float>.self) - vm)
        UnsafeMutableRawPointer(row + i).storeBytes(of: e, as: SIMD8<Float>.self)
        sv += e
        i += 8
    }
    var sum = sv.sum()
    while i < count { let e = expf(row[i] - m); row[i] = e; sum += e; i += 1 }
    return sum
}
