// Weights repacked at load time into groups of 8 rows whose blocks are interleaved, so that a vector
// lane is a row: the idea of llama.cpp's ggml-cpu repack.cpp (block_q4_0x8 and friends, made when a
// model is loaded), with Easel's own layout for its pmaddwd kernels. A single-token dot product then
// computes 8 rows at once with no horizontal sums and reads the 8 rows' f16 scales as one vector,
// where the stored layout pays both per row (VecDot.swift: laneSums, 8 scalar scale loads per 8 blocks).
//
// The layout keeps every byte of the stored blocks and only moves them, so a stored block can be
// restored exactly (`restoreBlock`): the panel path (large batches) widens restored blocks with the
// stored layout's decoders, bitwise as before. Batches under rowDotBatchLimit use the 8-row kernels,
// token by token (`matmulInterleavedByRowDots`).
//
// Q4_0x8: block column i of group g (rows 8g ..< 8g + 8) is 144 bytes = 8 × 18:
//   bytes 0..<16     the 8 rows' f16 d, row k at 2k;
//   bytes 16..<144   4 chunks of 32 bytes; chunk u holds qs bytes 4u ..< 4u + 4 of each row, row k at
//                    16 + 32u + 4k. Read as 16-bit lanes, lane 2k holds row k's qs bytes 4u, 4u + 1 and
//                    lane 2k + 1 its bytes 4u + 2, 4u + 3: four nibbles each, nibble e of lane 2k + p
//                    being row k's weight 4u + 2p + e / 2 + 16·(e % 2) (a qs byte's low nibble is weight
//                    j, its high nibble weight j + 16).
//
// Q4_Kx8: super-block column i of group g is 1152 bytes = 8 × 144:
//   bytes 0..<16 the rows' f16 d, 16..<32 their f16 dmin (row k at 2k);
//   bytes 32..<128 the 12 packed scale bytes as three 32-bit words, word w of row k at 32 + 32w + 4k
//                  (so the 8 rows' scales and mins unpack as 8-lane vectors);
//   bytes 128..<1152 32 chunks of 32 bytes, chunk u holding qs bytes 4u ..< 4u + 4 of each row at
//                  128 + 32u + 4k: Q4_0x8's arrangement, where a qs byte j's low nibble is weight
//                  64·(j / 32) + j % 32 (sub-block 2·(j / 32)) and its high nibble that plus 32 (the next
//                  sub-block).
//
// Q6_Kx8: super-block column i of group g is 1680 bytes = 8 × 210, in the order the kernel reads them:
//   bytes 0..<16      the rows' f16 d, row k at 2k;
//   bytes 16..<144    the 16 signed scales as 4 words, word w of row k at 16 + 32w + 4k;
//   then two halves of 768 bytes (weights 128h ..< 128h + 128, at 144 + 768h):
//     256 bytes: the half's 32 qh bytes as 8 words, word j of row k at 32j + 4k (unchanged bytes: byte
//                l holds the top two bits of weights 128h + l + 32·b at bits 2b, 2b + 1, b = 0..<4);
//     512 bytes: 16 chunks of 32 bytes of ql, Q4_Kx8's chunks 16h ..< 16h + 16 (word u of row k at
//                32·(u % 16) + 4k), but with the nibbles regrouped (`regroupedNibbles`): a stored ql byte
//                pairs weights 64 apart (low nibble w, high nibble w + 64), a regrouped one 32 apart
//                (w, w + 32) as Q4_K's qs bytes do, so the kernel takes Q4_K's activation order
//                (`.q8KInterleaved`).
//   (The first version put ql, qh, scales and d in the stored order, 1024 bytes of ql before their qh:
//   streaming a 7B-sized matrix from memory the kernel ran at 4 GB/s, a third of the speed it had on
//   cache-resident weights, with its time on the qh loads; read in address order it streams.)
// The regrouping swaps nibbles between ql words 64h + 4i and 64h + 32 + 4i and is its own inverse, so
// the layout still holds every bit of the stored block and restores it exactly.
// Group g starts at 8 · g · rowBytes, as in the stored layout; groups keep rows in order.

/// Byte offsets in a Q6_Kx8 block of ql chunk u (0..<32) and qh word w (0..<16), rows at + 4k.
@inline(__always) func q6ChunkOffset(_ u: Int) -> Int { 144 + 768 * (u / 16) + 256 + 32 * (u % 16) }
@inline(__always) func q6HighOffset(_ w: Int) -> Int { 144 + 768 * (w / 8) + 32 * (w % 8) }

/// Weight types with an 8-row interleaved layout and kernel.
func hasInterleavedLayout(_ type: GGMLType) -> Bool { type == .q4_0 || type == .q4_K || type == .q6_K }

/// Q6_K's ql words `a` (bytes 64h + 4i ..< +4: low nibbles weights 128h + 4i + 0..<4, high nibbles
/// the same + 64) and `b` (bytes 64h + 32 + 4i: the same + 32 and + 96) regrouped into Q4_K's pairing:
/// the first result holds weights 128h + 4i (low) and + 32 (high), the second + 64 and + 96.
/// Applying it twice gives back (a, b).
@inline(__always) func regroupedNibbles(_ a: UInt32, _ b: UInt32) -> (UInt32, UInt32) {
    let low: UInt32 = 0x0F0F_0F0F
    return ((a & low) | ((b & low) << 4), ((a >> 4) & low) | (b & ~low))
}

/// Rows per interleaved group: one per Int32/Float lane of a 256-bit vector.
let interleavedGroupRows = 8

/// 64-byte-aligned heap bytes that own a repacked matrix.
final class AlignedBytes: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(count: Int) { pointer = .allocate(byteCount: max(count, 1), alignment: 64) }
    deinit { pointer.deallocate() }
}

/// Moves one row's block between the stored layout (`stored`) and its place in an interleaved block
/// (`interleaved`, row `k`): the copies of the layouts above, written out per type so that a block is
/// a few loads and stores (repacking a 7B model at load, restoring rows for panels).
@inline(__always) func moveBlock(_ type: GGMLType, stored: UnsafeRawPointer, interleaved: UnsafeMutableRawPointer, row k: Int) {
    @inline(__always) func move<T>(_ from: Int, _ to: Int, _: T.Type) {
        interleaved.storeBytes(of: stored.loadUnaligned(fromByteOffset: from, as: T.self),
                               toByteOffset: to + k * MemoryLayout<T>.size, as: T.self)
    }
    switch type {
    case .q4_0:
        move(0, 0, UInt16.self)
        for u in 0..<4 { move(2 + 4 * u, 16 + 32 * u, UInt32.self) }
    case .q4_K:
        move(0, 0, UInt16.self); move(2, 16, UInt16.self)
        for w in 0..<3 { move(4 + 4 * w, 32 + 32 * w, UInt32.self) }
        for u in 0..<32 { move(16 + 4 * u, 128 + 32 * u, UInt32.self) }
    case .q6_K:
        for h in 0..<2 {
            for i in 0..<8 {
                let (x, y) = regroupedNibbles(stored.loadUnaligned(fromByteOffset: 64 * h + 4 * i, as: UInt32.self),
                                              stored.loadUnaligned(fromByteOffset: 64 * h + 32 + 4 * i, as: UInt32.self))
                interleaved.storeBytes(of: x, toByteOffset: q6ChunkOffset(16 * h + i) + 4 * k, as: UInt32.self)
                interleaved.storeBytes(of: y, toByteOffset: q6ChunkOffset(16 * h + 8 + i) + 4 * k, as: UInt32.self)
            }
        }
        for w in 0..<16 { move(128 + 4 * w, q6HighOffset(w), UInt32.self) }
        for w in 0..<4 { move(192 + 4 * w, 16 + 32 * w, UInt32.self) }
        move(208, 0, UInt16.self)
    default: preconditionFailure("\(type) has no interleaved layout")
    }
}

/// The inverse of moveBlock: row `k`'s stored block from the interleaved block at `interleaved`.
@inline(__always) func restoreBlock(_ type: GGMLType, interleaved: UnsafeRawPointer, row k: Int, stored: UnsafeMutableRawPointer) {
    @inline(__always) func move<T>(_ from: Int, _ to: Int, _: T.Type) {
        stored.storeBytes(of: interleaved.loadUnaligned(fromByteOffset: to + k * MemoryLayout<T>.size, as: T.self),
                          toByteOffset: from, as: T.self)
    }
    switch type {
    case .q4_0:
        move(0, 0, UInt16.self)
        for u in 0..<4 { move(2 + 4 * u, 16 + 32 * u, UInt32.self) }
    case .q4_K:
        move(0, 0, UInt16.self); move(2, 16, UInt16.self)
        for w in 0..<3 { move(4 + 4 * w, 32 + 32 * w, UInt32.self) }
        for u in 0..<32 { move(16 + 4 * u, 128 + 32 * u, UInt32.self) }
    case .q6_K:
        for h in 0..<2 {
            for i in 0..<8 {
                let (a, b) = regroupedNibbles(interleaved.loadUnaligned(fromByteOffset: q6ChunkOffset(16 * h + i) + 4 * k, as: UInt32.self),
                                              interleaved.loadUnaligned(fromByteOffset: q6ChunkOffset(16 * h + 8 + i) + 4 * k, as: UInt32.self))
                stored.storeBytes(of: a, toByteOffset: 64 * h + 4 * i, as: UInt32.self)
                stored.storeBytes(of: b, toByteOffset: 64 * h + 32 + 4 * i, as: UInt32.self)
            }
        }
        for w in 0..<16 { move(128 + 4 * w, q6HighOffset(w), UInt32.self) }
        for w in 0..<4 { move(192 + 4 * w, 16 + 32 * w, UInt32.self) }
        move(208, 0, UInt16.self)
    default: preconditionFailure("\(type) has no interleaved layout")
    }
}

/// Writes `rows` stored rows (a multiple of 8) of `type` at `src` in the interleaved layout at `dst`.
func interleaveRows(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, rows: Int, cols: Int) {
    precondition(hasInterleavedLayout(type) && rows % interleavedGroupRows == 0)
    let blocks = cols / type.blockSize, rowBytes = blocks * type.blockBytes
    // Threaded: most of the time is reading the file's pages in (a 7B model is gigabytes).
    Parallel.forRanges(rows / interleavedGroupRows, grain: 4) { range in
        for g in range {
            let group = dst + g * interleavedGroupRows * rowBytes
            for k in 0..<interleavedGroupRows {
                let row = src + (g * interleavedGroupRows + k) * rowBytes
                for i in 0..<blocks {
                    moveBlock(type, stored: row + type.blockBytes * i, interleaved: group + interleavedGroupRows * type.blockBytes * i, row: k)
                }
            }
        }
    }
}

/// Where activation j of a 32-block (Q4_0) or 256-block (Q4_K) goes in the `.q8Interleaved` /
/// `.q8KInterleaved` layout, and its factor. The kernels mask each 16-bit lane of a chunk four ways
/// without shifting (`& 0x000F`, `& 0x00F0`, `& 0x0F00`) but one (`>> 12`), so nibble e of a lane is
/// multiplied by 1, 16, 256, 1; activations facing nibble e carry 256, 16, 1, 256, so every product is
/// 256·q·a (|256·127| fits Int16) and the kernels divide by 256 (exact). Extraction e of chunk u
/// takes the activation pair at 8u + 2e: the weights of its lanes 2k, 2k + 1 (the layouts above).
/// `half`: 16 for Q4_0 (a qs byte's nibbles are weights j, j + 16), 32 for Q4_K (j, j + 32 within 64).
@inline(__always) func interleavedOrder(_ j: Int, half: Int) -> (lane: Int, factor: Int16) {
    let high = (j % (2 * half)) / half, l = j % half, u = (j / (2 * half)) * (half / 4) + l / 4
    let p = (l % 4) / 2, e = 2 * (l % 2) + high
    let factor: Int16 = switch e {
    case 1: 16
    case 2: 1
    default: 256
    }
    return (8 * u + 2 * e + p, factor)
}

/// The activation pair at j, j + 1 of `a` in every lane pair (a 32-bit broadcast load).
@inline(__always) func broadcastPair(_ a: UnsafeRawPointer, _ j: Int) -> SIMD16<Int16> {
    unsafeBitCast(SIMD8<UInt32>(repeating: a.loadUnaligned(fromByteOffset: 2 * j, as: UInt32.self)), to: SIMD16<Int16>.self)
}

/// One 32-byte chunk (8 rows × 8 weights) against its activations: Int32 lane k is row k's
/// 256·Σ q·a, split into the nibbles that were low (`low`: e = 0, 2) and high (e = 1, 3) in their bytes.
@inline(__always) func chunkSums(_ p: UnsafeRawPointer, _ a: UnsafeRawPointer, _ u: Int) -> (low: SIMD8<Int32>, high: SIMD8<Int32>) {
    let v = p.loadUnaligned(as: SIMD16<UInt16>.self)
    @inline(__always) func lanes(_ w: SIMD16<UInt16>) -> SIMD16<Int16> { unsafeBitCast(w, to: SIMD16<Int16>.self) }
    return (madd(lanes(v & 0x000F), broadcastPair(a, 8 * u)) &+ madd(lanes(v & 0x0F00), broadcastPair(a, 8 * u + 4)),
            madd(lanes(v & 0x00F0), broadcastPair(a, 8 * u + 2)) &+ madd(lanes(v &>> 12), broadcastPair(a, 8 * u + 6)))
}

/// Σ_k W[r, k]·x[k] over the columns of `blocks` for the 8 rows of a Q4_0x8 group (lane k = row 8g + k)
/// against `.q8Interleaved` activations: per block, Σ_k d_w·(d_a·Σ q·a − 8·d_a·Σa) as dotQ4_0, with
/// the same integer sums. Per 32 stored bytes (8 rows × 8 weights): one load, three masks and a shift
/// pick the four nibbles of each 16-bit lane, and four pair-multiply-adds face an activation pair
/// broadcast to every lane pair, whose Int32 lane k is then row k's: the block's 8 sums are one vector.
/// (The first version widened 16 bytes at a time and split them into low and high nibbles: 9 vector
/// operations per 32 weights against 6 here; KernelBench 4096×4096, one thread: 531 µs against 453.)
@inline(__always) func dotQ4_0x8(_ group: UnsafeRawPointer, _ act: ActivationRow, blocks: Range<Int>) -> SIMD8<Float> {
    var acc = SIMD8<Float>(), offset = SIMD8<Float>()
    for i in blocks {
        let b = group + 144 * i, a = UnsafeRawPointer(act.q + 32 * i)
        @inline(__always) func chunk(_ u: Int) -> SIMD8<Int32> {
            let s = chunkSums(b + 16 + 32 * u, a, u)
            return s.low &+ s.high
        }
        let sums = (chunk(0) &+ chunk(1)) &+ (chunk(2) &+ chunk(3))   // |Σ| ≤ 32·15·127·256 per lane
        let d = halfBitsToFloat(b.loadUnaligned(as: SIMD8<UInt16>.self))
        acc += toFloat(sums) * (d * act.scale[i])
        offset += d * act.scaledSum[i]
    }
    return acc * (1.0 / 256) - 8 * offset
}

/// Q4_Kx8 against `.q8KInterleaved` activations: per super-block, as dotQ4_K, d·d_a·Σ_j scale_j·(Σ q·a)_j
/// − dmin·d_a·Σ_j min_j·(Σa)_j with the same integers. The 8 rows' packed scales are unpacked as
/// kScalesAndMins does, in 8 lanes at once; each sub-block's 256·Σ q·a is divided by 256 (exact:
/// an arithmetic shift) and multiplied by its scale in Int32 (|Σ| ≤ 8·63·32·15·127 < 2^31).
@inline(__always) func dotQ4_Kx8(_ group: UnsafeRawPointer, _ act: ActivationRow, blocks: Range<Int>) -> SIMD8<Float> {
    var acc = SIMD8<Float>()
    for i in blocks {
        let b = group + 1152 * i, a = UnsafeRawPointer(act.q + 256 * i)
        let w0 = b.loadUnaligned(fromByteOffset: 32, as: SIMD8<UInt32>.self)
        let w1 = b.loadUnaligned(fromByteOffset: 64, as: SIMD8<UInt32>.self)
        let w2 = b.loadUnaligned(fromByteOffset: 96, as: SIMD8<UInt32>.self)
        let low6: UInt32 = 0x3F3F_3F3F, low4: UInt32 = 0x0F0F_0F0F, low2: UInt32 = 0x0303_0303
        let scales = (w0 & low6, (w2 & low4) | (((w0 &>> 6) & low2) &<< 4))
        let mins = (w1 & low6, ((w2 &>> 4) & low4) | (((w1 &>> 6) & low2) &<< 4))
        /// Byte j of each lane of a packed pair (sub-blocks 0-3 in the first word, 4-7 in the second).
        @inline(__always) func byteLanes(_ v: (SIMD8<UInt32>, SIMD8<UInt32>), _ j: Int) -> SIMD8<Int32> {
            unsafeBitCast(((j < 4 ? v.0 : v.1) &>> UInt32(8 * (j % 4))) & 0xFF, to: SIMD8<Int32>.self)
        }
        /// Sub-blocks 2c and 2c + 1 (chunks 8c ..< 8c + 8), each times its scale.
        @inline(__always) func pairOfSubBlocks(_ c: Int) -> SIMD8<Int32> {
            @inline(__always) func chunk(_ u: Int) -> (low: SIMD8<Int32>, high: SIMD8<Int32>) { chunkSums(b + 128 + 32 * u, a, u) }
            let s0 = chunk(8 * c), s1 = chunk(8 * c + 1), s2 = chunk(8 * c + 2), s3 = chunk(8 * c + 3)
            let s4 = chunk(8 * c + 4), s5 = chunk(8 * c + 5), s6 = chunk(8 * c + 6), s7 = chunk(8 * c + 7)
            let low = ((s0.low &+ s1.low) &+ (s2.low &+ s3.low)) &+ ((s4.low &+ s5.low) &+ (s6.low &+ s7.low))
            let high = ((s0.high &+ s1.high) &+ (s2.high &+ s3.high)) &+ ((s4.high &+ s5.high) &+ (s6.high &+ s7.high))
            return (low &>> 8) &* byteLanes(scales, 2 * c) &+ (high &>> 8) &* byteLanes(scales, 2 * c + 1)
        }
        let sum = (pairOfSubBlocks(0) &+ pairOfSubBlocks(1)) &+ (pairOfSubBlocks(2) &+ pairOfSubBlocks(3))
        let gs = act.groupSums + 16 * i
        @inline(__always) func minTerm(_ j: Int) -> SIMD8<Int32> {
            byteLanes(mins, j) &* (Int32(gs[2 * j]) + Int32(gs[2 * j + 1]))
        }
        let minSum = ((minTerm(0) &+ minTerm(1)) &+ (minTerm(2) &+ minTerm(3))) &+ ((minTerm(4) &+ minTerm(5)) &+ (minTerm(6) &+ minTerm(7)))
        let d = halfBitsToFloat(b.loadUnaligned(as: SIMD8<UInt16>.self))
        let dmin = halfBitsToFloat(b.loadUnaligned(fromByteOffset: 16, as: SIMD8<UInt16>.self))
        let da = act.scale[i]
        acc += toFloat(sum) * (d * da) - toFloat(minSum) * (dmin * da)
    }
    return acc
}

/// One 32-byte ql chunk of a Q6_Kx8 block with its two high bits per weight, against its activations:
/// chunkSums for 6-bit weights. `qh` holds each lane's two qh bytes (the lane's weights l, l + 1 within
/// their 32), whose bits 2j, 2j + 1 top the weights 32j + l: sub-blocks 0 and 1 of a 64-weight half
/// (`odd` false: chunk u with u / 8 even) take bits 0-3 of each byte, sub-blocks 2 and 3 bits 4-7. Each
/// pair of bits is moved to just above its nibble (so nibble e keeps its factor 1, 16, 256, 1):
/// |256·63| and every activation factor still fit Int16.
@inline(__always) func sixBitChunkSums(_ p: UnsafeRawPointer, _ qh: SIMD16<UInt16>, odd: Bool, _ a: UnsafeRawPointer,
                                       _ u: Int) -> (low: SIMD8<Int32>, high: SIMD8<Int32>) {
    let v = p.loadUnaligned(as: SIMD16<UInt16>.self)
    let h = odd ? qh : qh &<< 4   // bits of nibbles 0 and 2 at 4-5 and 12-13
    @inline(__always) func lanes(_ w: SIMD16<UInt16>) -> SIMD16<Int16> { unsafeBitCast(w, to: SIMD16<Int16>.self) }
    let e0 = (v & 0x000F) | (h & 0x0030), e1 = (v & 0x00F0) | ((h &<< 2) & 0x0300)
    let e2 = (v & 0x0F00) | (h & 0x3000), e3 = (v &>> 12) | ((h &>> 10) & 0x0030)
    return (madd(lanes(e0), broadcastPair(a, 8 * u)) &+ madd(lanes(e2), broadcastPair(a, 8 * u + 4)),
            madd(lanes(e1), broadcastPair(a, 8 * u + 2)) &+ madd(lanes(e3), broadcastPair(a, 8 * u + 6)))
}

/// Q6_Kx8 against `.q8KInterleaved` activations: per super-block, as dotQ6_K, d·d_a·Σ_g scale_g·((Σ q·a)_g
/// − 32·(Σa)_g) over the 16 groups of 16, with the same integers. Chunk u (Q4_Kx8's weights) pairs with
/// qh word 8·(u / 16) + u % 8; chunks 8c + 4m ..< 8c + 4m + 4 are groups 4c + m (low nibbles) and
/// 4c + 2 + m (high), whose signed scales are byte m and 2 + m of scale word c, sign-extended in 8 lanes.
/// Per group, 256·Σ q·a is divided by 256 (exact) and offset by 32·Σa before its scale multiplies it in
/// Int32 (|Σ| ≤ 16·(16·63·127 + 32·16·127)·128 < 2^31).
@inline(__always) func dotQ6_Kx8(_ group: UnsafeRawPointer, _ act: ActivationRow, blocks: Range<Int>) -> SIMD8<Float> {
    var acc = SIMD8<Float>()
    for i in blocks {
        let b = group + 1680 * i, a = UnsafeRawPointer(act.q + 256 * i), gs = act.groupSums + 16 * i
        /// The 64 weights 64c ..< 64c + 64 (chunks 8c ..< 8c + 8), each group times its scale.
        @inline(__always) func sixtyFour(_ c: Int) -> SIMD8<Int32> {
            let scales = unsafeBitCast(b.loadUnaligned(fromByteOffset: 16 + 32 * c, as: SIMD8<UInt32>.self), to: SIMD8<Int32>.self)
            @inline(__always) func scale(_ j: Int) -> SIMD8<Int32> { (scales &<< Int32(24 - 8 * j)) &>> 24 }
            @inline(__always) func quarter(_ m: Int) -> SIMD8<Int32> {
                @inline(__always) func chunk(_ t: Int) -> (low: SIMD8<Int32>, high: SIMD8<Int32>) {
                    let u = 8 * c + 4 * m + t, w = 8 * (c / 2) + 4 * m + t
                    return sixBitChunkSums(b + q6ChunkOffset(u), b.loadUnaligned(fromByteOffset: q6HighOffset(w), as: SIMD16<UInt16>.self),
                                           odd: c % 2 == 1, a, u)
                }
                let s0 = chunk(0), s1 = chunk(1), s2 = chunk(2), s3 = chunk(3)
                let low = (s0.low &+ s1.low) &+ (s2.low &+ s3.low), high = (s0.high &+ s1.high) &+ (s2.high &+ s3.high)
                return scale(m) &* ((low &>> 8) &- SIMD8(repeating: 32 &* Int32(gs[4 * c + m])))
                    &+ scale(2 + m) &* ((high &>> 8) &- SIMD8(repeating: 32 &* Int32(gs[4 * c + 2 + m])))
            }
            return quarter(0) &+ quarter(1)
        }
        let sum = (sixtyFour(0) &+ sixtyFour(1)) &+ (sixtyFour(2) &+ sixtyFour(3))
        let d = halfBitsToFloat(b.loadUnaligned(as: SIMD8<UInt16>.self))
        acc += toFloat(sum) * (d * act.scale[i])
    }
    return acc
}

/// matmul's row-dot path (batch < rowDotBatchLimit) for an interleaved matrix: the 8-row kernels above,
/// groups split across threads. Several tokens take a group's columns a step at a time (about 4.5 KiB
/// of weights), each step against every token while it is in L1, so the weights are read from memory
/// once per matmul. (The first version restored each group's stored rows and ran UnpackedRow on them:
/// 7B Q4_0 prefill of 16 tokens 6.6 tok/s against 7.6 before the repack and 9.7 now.)
func matmulInterleavedByRowDots(_ w: WeightMatrix, _ x: UnsafePointer<Float>, batch: Int, _ y: UnsafeMutablePointer<Float>) {
    precondition(w.isInterleaved)
    let rows = w.rows, cols = w.cols, blocks = cols / w.type.blockSize
    let groups = rows / interleavedGroupRows, groupBytes = interleavedGroupRows * w.rowBytes
    // Steps of about 4.5 KiB of a group's weights: 32 Q4_0 blocks, 4 Q4_K or 3 Q6_K super-blocks.
    let type = w.type
    let blockStep: Int
    switch type {
    case .q4_0: blockStep = 32
    case .q4_K: blockStep = 4
    case .q6_K: blockStep = 3
    default: preconditionFailure("\(type) has no interleaved kernel")
    }
    let act = QuantizedActivations(format: type == .q4_0 ? .q8Interleaved : .q8KInterleaved, x: x, rows: batch, cols: cols)
    defer { act.deallocate() }
    Parallel.forRanges(groups, grain: rowDotGrain / interleavedGroupRows) { range in
        let sums = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: batch)
        defer { sums.deallocate() }
        for g in range {
            let group = w.data + g * groupBytes
            sums.initialize(repeating: SIMD8(), count: batch)
            var i = 0
            while i < blocks {
                let step = i..<min(blocks, i + blockStep)
                switch type {
                case .q4_0: for b in 0..<batch { sums[b] += dotQ4_0x8(group, act.row(b), blocks: step) }
                case .q4_K: for b in 0..<batch { sums[b] += dotQ4_Kx8(group, act.row(b), blocks: step) }
                case .q6_K: for b in 0..<batch { sums[b] += dotQ6_Kx8(group, act.row(b), blocks: step) }
                default: preconditionFailure("\(type) has no interleaved kernel")
                }
                i = step.upperBound
            }
            for b in 0..<batch {
                UnsafeMutableRawPointer(y + b * rows + interleavedGroupRows * g).storeBytes(of: sums[b], as: SIMD8<Float>.self)
            }
        }
    }
}

/// Stored rows r0 ..< r0 + n (both multiples of 8) of an interleaved matrix widened to Float32 at
/// `dst` ([n, cols]), bitwise as dequantizeRow widens the stored rows: each block is restored into a
/// one-block scratch (in L1) and widened by the stored layout's decoder. (Restoring whole groups into
/// a row buffer first made the 4096×4096 Q4_0 panel at batch 128 16% slower than the stored matrix's.)
func dequantizeInterleavedRows(_ w: WeightMatrix, from r0: Int, count n: Int, _ dst: UnsafeMutablePointer<Float>) {
    precondition(w.isInterleaved && r0 % interleavedGroupRows == 0 && n % interleavedGroupRows == 0)
    let type = w.type, blocks = w.cols / type.blockSize, groupBytes = interleavedGroupRows * w.rowBytes
    Parallel.forRanges(n / interleavedGroupRows, grain: 1) { range in
        let block = UnsafeMutableRawPointer.allocate(byteCount: type.blockBytes, alignment: 16)
        defer { block.deallocate() }
        for g in range {
            let group = w.data + (r0 / interleavedGroupRows + g) * groupBytes
            for k in 0..<interleavedGroupRows {
                let out = dst + (interleavedGroupRows * g + k) * w.cols
                for i in 0..<blocks {
                    restoreBlock(type, interleaved: group + interleavedGroupRows * type.blockBytes * i, row: k, stored: block)
                    switch type {
                    case .q4_0: BlockQ4_0.dequantize(block, out + 32 * i)
                    case .q4_K: BlockQ4_K.dequantize(block, out + 256 * i)
                    case .q6_K: BlockQ6_K.dequantize(block, out + 256 * i)
                    default: preconditionFailure("\(type) has no interleaved layout")
                    }
                }
            }
        }
    }
}
