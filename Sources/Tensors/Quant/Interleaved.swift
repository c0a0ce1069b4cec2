// Weights repacked at load time into groups of 8 rows whose blocks are interleaved, so that a vector
// lane is a row: the idea of llama.cpp's ggml-cpu repack.cpp (block_q4_0x8 and friends, made when a
// model is loaded), with Easel's own layout for its pmaddwd kernels. A single-token dot product then
// computes 8 rows at once with no horizontal sums and reads the 8 rows' f16 scales as one vector,
// where the stored layout pays both per row (VecDot.swift: laneSums, 8 scalar scale loads per 8 blocks).
//
// The layout keeps every byte of the stored blocks and only moves them, so the original rows can be
// restored exactly (`restoreGroup`): the short-batch and panel paths of matmul restore a group of
// rows into a scratch buffer and run the stored-layout kernels on it, so their numerics are unchanged.
//
// Q4_0x8: block column i of group g (rows 8g ..< 8g + 8) is 144 bytes = 8 × 18:
//   bytes 0..<16     the 8 rows' f16 d, row k at 2k;
//   bytes 16..<144   8 chunks of 16 bytes; chunk t holds bytes 2t and 2t + 1 of each row's 16 qs bytes,
//                    row k at 16 + 16t + 2k. Widened to 16-bit lanes, lanes 2k and 2k + 1 of chunk t are
//                    row k's weights 2t and 2t + 1 (low nibbles) and 16 + 2t, 17 + 2t (high nibbles).
// Group g starts at 8 · g · rowBytes, as in the stored layout; groups keep rows in order.

/// Weight types with an 8-row interleaved layout and kernel.
func hasInterleavedLayout(_ type: GGMLType) -> Bool { type == .q4_0 }

/// Rows per interleaved group: one per Int32/Float lane of a 256-bit vector.
let interleavedGroupRows = 8

/// 64-byte-aligned heap bytes that own a repacked matrix.
final class AlignedBytes: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(count: Int) { pointer = .allocate(byteCount: max(count, 1), alignment: 64) }
    deinit { pointer.deallocate() }
}

/// Writes `rows` stored rows (a multiple of 8) of `type` at `src` in the interleaved layout at `dst`.
func interleaveRows(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, rows: Int, cols: Int) {
    precondition(hasInterleavedLayout(type) && rows % interleavedGroupRows == 0)
    let blocks = cols / type.blockSize, rowBytes = blocks * type.blockBytes
    for g in 0..<(rows / interleavedGroupRows) {
        let group = dst + g * interleavedGroupRows * rowBytes
        for k in 0..<interleavedGroupRows {
            let row = src + (g * interleavedGroupRows + k) * rowBytes
            for i in 0..<blocks {
                let b = row + 18 * i, out = group + 144 * i
                out.storeBytes(of: b.loadUnaligned(as: UInt16.self), toByteOffset: 2 * k, as: UInt16.self)
                for t in 0..<8 {
                    out.storeBytes(of: b.loadUnaligned(fromByteOffset: 2 + 2 * t, as: UInt16.self),
                                   toByteOffset: 16 + 16 * t + 2 * k, as: UInt16.self)
                }
            }
        }
    }
}

/// The 8 stored rows of the interleaved group at `group`, bitwise as they were in the file, at `dst`.
@inline(__always) func restoreGroup(_ type: GGMLType, _ group: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, cols: Int) {
    let blocks = cols / type.blockSize, rowBytes = blocks * type.blockBytes
    for i in 0..<blocks {
        let b = group + 144 * i
        for k in 0..<interleavedGroupRows {
            let out = dst + k * rowBytes + 18 * i
            out.storeBytes(of: b.load(fromByteOffset: 2 * k, as: UInt16.self), as: UInt16.self)
            // Row k's 16 qs bytes are the UInt16s at 16 + 16t + 2k, t = 0..<8.
            var qs = SIMD8<UInt16>()
            for t in 0..<8 { qs[t] = b.load(fromByteOffset: 16 + 16 * t + 2 * k, as: UInt16.self) }
            out.storeBytes(of: qs, toByteOffset: 2, as: SIMD8<UInt16>.self)
        }
    }
}

/// Σ_k W[r, k]·x[k] for the 8 rows of a Q4_0x8 group (lane k = row 8g + k) against `.q8` activations
/// (natural order): per block, Σ_k d_w·(d_a·Σ q·a − 8·d_a·Σa) as dotQ4_0, with the same integer sums.
/// Per 16 stored bytes (8 rows × 4 weights): one widening load, a mask and a shift for the low and
/// high nibbles, and two pair-multiply-adds against an activation pair broadcast to every lane pair
/// (a 32-bit broadcast load), whose Int32 lane k is then row k's: the block's 8 sums are one vector.
@inline(__always) func dotQ4_0x8(_ group: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> SIMD8<Float> {
    var acc = SIMD8<Float>(), offset = SIMD8<Float>()
    for i in 0..<blocks {
        let b = group + 144 * i, a = UnsafeRawPointer(act.q + 32 * i)
        /// Activations j and j + 1 in every lane pair.
        @inline(__always) func pair(_ j: Int) -> SIMD16<Int16> {
            unsafeBitCast(SIMD8<UInt32>(repeating: a.loadUnaligned(fromByteOffset: 2 * j, as: UInt32.self)), to: SIMD16<Int16>.self)
        }
        /// Rows' weights 2t, 2t + 1 (low nibbles) and 16 + 2t, 17 + 2t (high nibbles).
        @inline(__always) func chunk(_ t: Int) -> SIMD8<Int32> {
            let v = zeroExtended(b, 16 + 16 * t)
            return madd(v & 0x0F, pair(2 * t)) &+ madd(v &>> 4, pair(16 + 2 * t))
        }
        let sums = ((chunk(0) &+ chunk(1)) &+ (chunk(2) &+ chunk(3))) &+ ((chunk(4) &+ chunk(5)) &+ (chunk(6) &+ chunk(7)))
        let d = halfBitsToFloat(b.loadUnaligned(as: SIMD8<UInt16>.self))
        acc += toFloat(sums) * (d * act.scale[i])
        offset += d * act.scaledSum[i]
    }
    return acc - 8 * offset
}

/// matmul's paths for an interleaved matrix (`WeightMatrix.isInterleaved`).
/// - One token: the 8-row kernel above, groups split across threads.
/// - Short batches: each group is restored to its 8 stored rows in a scratch buffer (in L1/L2) and
///   multiplied as matmulByRowDots does (UnpackedRow), so prefill keeps its speed and numerics.
func matmulInterleavedByRowDots(_ w: WeightMatrix, _ x: UnsafePointer<Float>, batch: Int, _ y: UnsafeMutablePointer<Float>) {
    precondition(w.isInterleaved && w.type == .q4_0)
    let rows = w.rows, cols = w.cols, blocks = cols / w.type.blockSize
    let groups = rows / interleavedGroupRows, groupBytes = interleavedGroupRows * w.rowBytes
    if batch == 1 {
        let act = QuantizedActivations(format: .q8, x: x, rows: 1, cols: cols)
        defer { act.deallocate() }
        Parallel.forRanges(groups, grain: rowDotGrain / interleavedGroupRows) { range in
            for g in range {
                let v = dotQ4_0x8(w.data + g * groupBytes, act.row(0), blocks: blocks)
                UnsafeMutableRawPointer(y + interleavedGroupRows * g).storeBytes(of: v, as: SIMD8<Float>.self)
            }
        }
        return
    }
    let act = QuantizedActivations(format: ActivationFormat(weights: w.type)!, x: x, rows: batch, cols: cols)
    defer { act.deallocate() }
    Parallel.forRanges(groups, grain: rowDotGrain / interleavedGroupRows) { range in
        let stored = UnsafeMutableRawPointer.allocate(byteCount: groupBytes, alignment: 64)
        let unpacked = UnpackedRow(type: w.type, cols: cols)
        defer { stored.deallocate(); unpacked.deallocate() }
        for g in range {
            restoreGroup(w.type, w.data + g * groupBytes, stored, cols: cols)
            for k in 0..<interleavedGroupRows {
                let r = interleavedGroupRows * g + k
                unpacked.unpack(stored + k * w.rowBytes)
                for b in 0..<batch { y[b * rows + r] = unpacked.dot(act.row(b)) }
            }
        }
    }
}

/// Stored rows r0 ..< r0 + n (both multiples of 8) of an interleaved matrix widened to Float32 at
/// `dst` ([n, cols]), bitwise as dequantizeRow widens the stored rows.
func dequantizeInterleavedRows(_ w: WeightMatrix, from r0: Int, count n: Int, _ dst: UnsafeMutablePointer<Float>) {
    precondition(w.isInterleaved && r0 % interleavedGroupRows == 0 && n % interleavedGroupRows == 0)
    let groupBytes = interleavedGroupRows * w.rowBytes
    Parallel.forRanges(n / interleavedGroupRows, grain: 1) { range in
        let stored = UnsafeMutableRawPointer.allocate(byteCount: groupBytes, alignment: 64)
        defer { stored.deallocate() }
        for g in range {
            restoreGroup(w.type, w.data + (r0 / interleavedGroupRows + g) * groupBytes, stored, cols: w.cols)
            for k in 0..<interleavedGroupRows {
                dequantizeRow(w.type, stored + k * w.rowBytes, dst + (interleavedGroupRows * g + k) * w.cols, count: w.cols)
            }
        }
    }
}
