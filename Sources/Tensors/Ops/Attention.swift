import COpenBLAS
import Foundation

/// Reusable score buffer for `attention`, grown on demand.
public final class AttentionScratch: @unchecked Sendable {
    var scores: UnsafeMutablePointer<Float>?
    var capacity = 0
    public init() {}
    func scores(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity { scores?.deallocate(); scores = .allocate(capacity: count); capacity = count }
        return scores!
    }
    public func release() { scores?.deallocate(); scores = nil; capacity = 0 }
    deinit { release() }
}

/// Largest block of attention scores held at once (16 MiB): queries are processed in blocks so a
/// 4096 × 4096 self-attention never materialises more than this.
let maxScoreBlock = 4 << 20

/// Multi-head scaled dot-product attention through SGEMM, the layout of diffusers' `Attention` after its
/// projections: q [queries, heads·headDim] (row stride qStride), k and v [keys, heads·headDim] (strides
/// kStride, vStride), out [queries, heads·headDim] (stride outStride). For each head and block of queries,
/// S = scale·Q·Kᵀ, softmax over keys (max-subtracted, float32), O = S·V. `causal` masks key j > query i
/// (CLIP's text transformer). Any key count works: cross-attention takes text states of any length.
public func attention(q: UnsafePointer<Float>, qStride: Int, k: UnsafePointer<Float>, kStride: Int,
                      v: UnsafePointer<Float>, vStride: Int, out: UnsafeMutablePointer<Float>, outStride: Int,
                      queries: Int, keys: Int, heads: Int, headDim: Int, scale: Float, causal: Bool = false,
                      scratch: AttentionScratch) {
    guard queries > 0, keys > 0 else { return }
    let block = max(1, min(queries, maxScoreBlock / keys))
    let s = scratch.scores(block * keys)
    for h in 0..<heads {
        var q0 = 0
        while q0 < queries {
            let m = min(block, queries - q0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(keys), Int32(headDim),
                        scale, q + q0 * qStride + h * headDim, Int32(qStride), k + h * headDim, Int32(kStride),
                        0, s, Int32(keys))
            let start = q0
            Parallel.forRanges(m, grain: 16) { range in
                for r in range {
                    let row = s + r * keys
                    let visible = causal ? min(keys, start + r + 1) : keys
                    softmaxRow(row, count: visible)
                    if visible < keys { (row + visible).update(repeating: 0, count: keys - visible) }
                }
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(headDim), Int32(keys),
                        1, s, Int32(keys), v + h * headDim, Int32(vStride), 0, out + q0 * outStride + h * headDim,
                        Int32(outStride))
            q0 += m
        }
    }
}

/// In-place softmax of one row, 8 lanes at a time with `exp8`.
@inline(__always) func softmaxRow(_ row: UnsafeMutablePointer<Float>, count: Int) {
    var mv = SIMD8<Float>(repeating: -.infinity)
    var i = 0
    while i + 8 <= count { mv = pointwiseMax(mv, UnsafeRawPointer(row + i).loadUnaligned(as: SIMD8<Float>.self)); i += 8 }
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
    let inv = 1 / sum
    for j in 0..<count { row[j] *= inv }
}
