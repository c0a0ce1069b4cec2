// Weights repacked at load time into groups of 8 rows whose blocks are interleaved, so that a vector
// lane is a row: the idea of llama.cpp's ggml-cpu repack.cpp (block_q4_0x8 and friends, made when a
// model is loaded), with Easel's own layout for its pmaddwd kernels. A single-token dot product then
// computes 8 rows at once with no horizontal sums and reads the 8 rows' f16 scales as one vector,
// where the stored layout pays both per row (VecDot.swift: laneSums, 8 scalar scale loads per 8 blocks).
//
// The layout keeps every byte of the stored blocks and only moves them, so the original rows can be
// restored exactly (`restoreGroup`): the panel path (large batches) restores a group of rows into a
// scratch buffer and widens them as dequantizeRow does, bitwise. Batches under rowDotBatchLimit use the
// 8-row kernel, token by token (`matmulInterleavedByRowDots`).
//
// Q4_0x8: block column i of group g (rows 8g ..< 8g + 8) is 144 bytes = 8 × 18:
//   bytes 0..<16     the 8 rows' f16 d, row k at 2k;
//   bytes 16..<144   4 chunks of 32 bytes; chunk u holds qs bytes 4u ..< 4u + 4 of each row, row k at
//                    16 + 32u + 4k. Read as 16-bit lanes, lane 2k holds row k's qs bytes 4u, 4u + 1 and
//                    lane 2k + 1 its bytes 4u + 2, 4u + 3: four nibbles each, nibble e of lane 2k + p
//                    being row k's weight 4u + 2p + e / 2 + 16·(e % 2) (a qs byte's low nibble is weight
//                    j, its high nibble weight j + 16).
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
                for u in 0..<4 {
                    out.storeBytes(of: b.loadUnaligned(fromByteOffset: 2 + 4 * u, as: UInt32.self),
                                   toByteOffset: 16 + 32 * u + 4 * k, as: UInt32.self)
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
            out.storeBytes(of: b.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self), as: UInt16.self)
            // Row k's 16 qs bytes are the UInt32s at 16 + 32u + 4k, u = 0..<4.
            var qs = SIMD4<UInt32>()
            for u in 0..<4 { qs[u] = b.loadUnaligned(fromByteOffset: 16 + 32 * u + 4 * k, as: UInt32.self) }
            out.storeBytes(of: qs, toByteOffset: 2, as: SIMD4<UInt32>.self)
        }
    }
}

/// Where activation j of a 32-block goes in the `.q8Interleaved` layout, and its factor. The Q4_0x8
/// kernel masks each 16-bit lane four ways without shifting (`& 0x000F`, `& 0x00F0`, `& 0x0F00`) but
/// one (`>> 12`), so nibble e of a lane is multiplied by 1, 16, 256, 1; activations facing nibble e
/// carry 256, 16, 1, 256, so every product is 256·q·a (|256·127| fits Int16) and the kernel divides
/// the sum by 256 (exact). Extraction e of chunk u takes the activation pair at 8u + 2e: the weights
/// of its lanes 2k, 2k + 1 (Q4_0x8 layout above).
@inline(__always) func interleavedOrder(_ j: Int) -> (lane: Int, factor: Int16) {
    let high = j >= 16 ? 1 : 0, m = j % 16
    let u = m / 4, p = (m % 4) / 2, e = 2 * (m % 2) + high
    return (8 * u + 2 * e + p, [256, 16, 1, 256][e])
}

/// Σ_k W[r, k]·x[k] over the columns of `blocks` for the 8 rows of a Q4_0x8 group (lane k = row 8g + k) against `.q8Interleaved`
/// activations: per block, Σ_k d_w·(d_a·Σ q·a − 8·d_a·Σa) as dotQ4_0, with the same integer sums.
/// Per 32 stored bytes (8 rows × 8 weights): one load, three masks and a shift pick the four nibbles of
/// each 16-bit lane, and four pair-multiply-adds face an activation pair broadcast to every lane pair
/// (a 32-bit broadcast load), whose Int32 lane k is then row k's: the block's 8 sums are one vector.
/// (The first version widened 16 bytes at a time and split them into low and high nibbles: 9 vector
/// operations per 32 weights against 6 here.)
@inline(__always) func dotQ4_0x8(_ group: UnsafeRawPointer, _ act: ActivationRow, blocks: Range<Int>) -> SIMD8<Float> {
    var acc = SIMD8<Float>(), offset = SIMD8<Float>()
    for i in blocks {
        let b = group + 144 * i, a = UnsafeRawPointer(act.q + 32 * i)
        /// The activation pair at j, j + 1 in every lane pair.
        @inline(__always) func pair(_ j: Int) -> SIMD16<Int16> {
            unsafeBitCast(SIMD8<UInt32>(repeating: a.loadUnaligned(fromByteOffset: 2 * j, as: UInt32.self)), to: SIMD16<Int16>.self)
        }
        @inline(__always) func chunk(_ u: Int) -> SIMD8<Int32> {
            let v = b.loadUnaligned(fromByteOffset: 16 + 32 * u, as: SIMD16<UInt16>.self)
            @inline(__always) func lanes(_ w: SIMD16<UInt16>) -> SIMD16<Int16> { unsafeBitCast(w, to: SIMD16<Int16>.self) }
            return (madd(lanes(v & 0x000F), pair(8 * u)) &+ madd(lanes(v & 0x00F0), pair(8 * u + 2)))
                &+ (madd(lanes(v & 0x0F00), pair(8 * u + 4)) &+ madd(lanes(v &>> 12), pair(8 * u + 6)))
        }
        let sums = (chunk(0) &+ chunk(1)) &+ (chunk(2) &+ chunk(3))   // |Σ| ≤ 32·15·127·256 per lane
        let d = halfBitsToFloat(b.loadUnaligned(as: SIMD8<UInt16>.self))
        acc += toFloat(sums) * (d * act.scale[i])
        offset += d * act.scaledSum[i]
    }
    return acc * (1.0 / 256) - 8 * offset
}

/// Blocks per step of the short-batch loop: 4.5 KiB of a group's weights, which stay in L1 while every
/// token of the batch is multiplied with them.
let interleavedBlockStep = 32

/// matmul's row-dot path (batch < rowDotBatchLimit) for an interleaved matrix: the 8-row kernel above,
/// groups split across threads. Several tokens take a group's columns a step at a time, each step
/// against every token while it is in L1, so the weights are read from memory once per matmul. (The
/// first version restored each group's stored rows and ran UnpackedRow on them: 7B prefill of 16
/// tokens 6.6 tok/s against 7.6 before the repack.)
func matmulInterleavedByRowDots(_ w: WeightMatrix, _ x: UnsafePointer<Float>, batch: Int, _ y: UnsafeMutablePointer<Float>) {
    precondition(w.isInterleaved && w.type == .q4_0)
    let rows = w.rows, cols = w.cols, blocks = cols / w.type.blockSize
    let groups = rows / interleavedGroupRows, groupBytes = interleavedGroupRows * w.rowBytes
    let act = QuantizedActivations(format: .q8Interleaved, x: x, rows: batch, cols: cols)
    defer { act.deallocate() }
    Parallel.forRanges(groups, grain: rowDotGrain / interleavedGroupRows) { range in
        let sums = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: batch)
        defer { sums.deallocate() }
        for g in range {
            let group = w.data + g * groupBytes
            sums.initialize(repeating: SIMD8(), count: batch)
            var i = 0
            while i < blocks {
                let step = i..<min(blocks, i + interleavedBlockStep)
                for b in 0..<batch { sums[b] += dotQ4_0x8(group, act.row(b), blocks: step) }
                i = step.upperBound
            }
            for b in 0..<batch {
                UnsafeMutableRawPointer(y + b * rows + interleavedGroupRows * g).storeBytes(of: sums[b], as: SIMD8<Float>.self)
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
