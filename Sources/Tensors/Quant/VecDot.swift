// Dot products of one stored weight row with one activation row, read straight from the blocks.
// Quantized types take 8-bit activations (QuantizedActivations) and multiply integers, as llama.cpp's
// ggml_vec_dot_<type>_q8_0/q8_1/q8_K do: per block an exact integer sum, then one float multiply by
// the two scales. Floats (f16, bf16) take f32 activations. Reference.quantizedDot is the scalar twin.
//
// Lanes: weight bytes are loaded as 16-bit lanes holding two consecutive bytes; masking and shifting
// splits them into a vector of even-indexed and one of odd-indexed weights, matching the activations'
// even/odd order (QuantizedActivations). Products of ≤ 6-bit weights and 8-bit activations fit Int16,
// so they are multiplied and summed in 16-bit lanes (pmullw, paddw) and widened to Int32 once per 32
// weights by two shifts. (Written as a pmaddwd pattern instead, LLVM sees the weights' known range
// and lowers it to a longer shuffle sequence; this form stays short on SSE2 and on AVX2 builds.)

/// Σ over lanes (2i, 2i + 1) of `p` into 4 Int32 lanes, after adding its halves in 16 bits. Each
/// result lane sums 4 of p's lanes, so callers keep |p lane| ≤ 2·63·127 (two products per lane).
@inline(__always) func sum4(_ p: SIMD16<Int16>) -> SIMD4<Int32> {
    widenPairs(p.lowHalf &+ p.highHalf)
}

/// Lanes (2i, 2i + 1) added into Int32 lane i: the low lane sign-extended by a shift pair, the
/// high one by an arithmetic shift.
@inline(__always) func widenPairs(_ p: SIMD8<Int16>) -> SIMD4<Int32> {
    let x = unsafeBitCast(p, to: SIMD4<Int32>.self)
    return ((x &<< 16) &>> 16) &+ (x &>> 16)
}

@inline(__always) func int16(_ v: SIMD16<UInt16>) -> SIMD16<Int16> { unsafeBitCast(v, to: SIMD16<Int16>.self) }

@inline(__always) func loadActivations(_ q: UnsafePointer<Int16>, _ offset: Int) -> (even: SIMD16<Int16>, odd: SIMD16<Int16>) {
    let raw = UnsafeRawPointer(q + offset)
    return (raw.loadUnaligned(as: SIMD16<Int16>.self), raw.loadUnaligned(fromByteOffset: 32, as: SIMD16<Int16>.self))
}

/// Σ q·a over one 32-weight block of 4-bit weights (16 bytes at `qs`): lane i of the load holds
/// bytes 2i and 2i + 1, whose low nibbles are weights 2i, 2i + 1 and high nibbles 2i + 16, 2i + 17.
/// `high` adds fifth bits (0 or 16 per weight, evens then odds) for Q5 types.
@inline(__always) func nibbleBlockSums(_ qs: UnsafeRawPointer, _ a: UnsafePointer<Int16>,
                                       high: (even: SIMD16<UInt16>, odd: SIMD16<UInt16>)? = nil) -> SIMD4<Int32> {
    let v = qs.loadUnaligned(as: SIMD8<UInt16>.self)
    let w = SIMD16<UInt16>(lowHalf: v, highHalf: v &>> 4)
    var even = w & 0x000F, odd = (w &>> 8) & 0x000F
    if let high { even |= high.even; odd |= high.odd }
    let (ae, ao) = loadActivations(a, 0)
    return sum4(int16(even) &* ae &+ int16(odd) &* ao)   // ≤ 4·31·127 per 16-bit lane
}

/// Fifth bits of a Q5 block's qh (bit j for weight j) as 0 or 16 in the even/odd lane order: lane i
/// (< 8) of the evens is weight 2i, lane 8 + i weight 16 + 2i. Multiplying by 2^(15 − bit) moves the
/// wanted bit to bit 15 in every lane at once.
@inline(__always) func fifthBitLanes(_ qh: UInt32) -> (even: SIMD16<UInt16>, odd: SIMD16<UInt16>) {
    let h = SIMD16<UInt16>(lowHalf: SIMD8(repeating: UInt16(truncatingIfNeeded: qh)),
                           highHalf: SIMD8(repeating: UInt16(truncatingIfNeeded: qh >> 16)))
    let evenShift = SIMD16<UInt16>(1 << 15, 1 << 13, 1 << 11, 1 << 9, 1 << 7, 1 << 5, 1 << 3, 1 << 1,
                                   1 << 15, 1 << 13, 1 << 11, 1 << 9, 1 << 7, 1 << 5, 1 << 3, 1 << 1)
    let oddShift = SIMD16<UInt16>(1 << 14, 1 << 12, 1 << 10, 1 << 8, 1 << 6, 1 << 4, 1 << 2, 1,
                                  1 << 14, 1 << 12, 1 << 10, 1 << 8, 1 << 6, 1 << 4, 1 << 2, 1)
    return (((h &* evenShift) &>> 15) &<< 4, ((h &* oddShift) &>> 15) &<< 4)
}

/// [Σa, Σb, Σc, Σd]: the lane sums of four vectors, by two rounds of interleave-and-add.
@inline(__always) func laneSums(_ a: SIMD4<Int32>, _ b: SIMD4<Int32>, _ c: SIMD4<Int32>, _ d: SIMD4<Int32>) -> SIMD4<Int32> {
    let ab = SIMD4(a[0], b[0], a[1], b[1]) &+ SIMD4(a[2], b[2], a[3], b[3])
    let cd = SIMD4(c[0], d[0], c[1], d[1]) &+ SIMD4(c[2], d[2], c[3], d[3])
    return SIMD4(ab[0], ab[1], cd[0], cd[1]) &+ SIMD4(ab[2], ab[3], cd[2], cd[3])
}

/// The second term of a 32-weight block type's dot product: factor·Σ_i e_w·t_a with e_w the f16 at
/// byte `offset` of block i and t_a = `activation[i]` (Q4_1/Q5_1: m·s; Q4_0/Q5_0: d·(d_a·Σa) with
/// factor −8/−16, the unsigned nibbles' offset).
struct BlockTerm {
    let offset: Int
    let activation: UnsafePointer<Float>
    let factor: Float
}

/// The shared loop of the 32-weight block types: Σ_i d_w·d_a·(Σ q·a)_i plus `term`, d_w the f16 at
/// byte 0 of each block. Four blocks at a time: their scales are converted in one vector, since one
/// f16 conversion per block costs about as much as the block's integer work.
@inline(__always) func dotBlocks32(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int, blockBytes: Int, term: BlockTerm?,
                                   _ blockSums: (UnsafeRawPointer, UnsafePointer<Int16>) -> SIMD4<Int32>) -> Float {
    @inline(__always) func halves(_ b: UnsafeRawPointer, _ offset: Int) -> SIMD4<Float> {
        halfBitsToFloat(SIMD4<UInt16>(b.loadUnaligned(fromByteOffset: offset, as: UInt16.self),
                                      b.loadUnaligned(fromByteOffset: offset + blockBytes, as: UInt16.self),
                                      b.loadUnaligned(fromByteOffset: offset + 2 * blockBytes, as: UInt16.self),
                                      b.loadUnaligned(fromByteOffset: offset + 3 * blockBytes, as: UInt16.self)))
    }
    @inline(__always) func four(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
    }
    var acc = SIMD4<Float>(), extra = SIMD4<Float>(), i = 0
    while i + 4 <= blocks {
        let b = row + blockBytes * i
        // One lane per block: the four blocks' integer sums, converted and scaled in one step.
        let sums = laneSums(blockSums(b, act.q + 32 * i), blockSums(b + blockBytes, act.q + 32 * i + 32),
                            blockSums(b + 2 * blockBytes, act.q + 32 * i + 64), blockSums(b + 3 * blockBytes, act.q + 32 * i + 96))
        acc += SIMD4<Float>(sums) * (halves(b, 0) * four(act.scale + i))
        if let term { extra += halves(b, term.offset) * four(term.activation + i) }
        i += 4
    }
    var tail: Float = 0
    while i < blocks {
        let b = row + blockBytes * i
        acc += SIMD4<Float>(blockSums(b, act.q + 32 * i)) * (loadHalf(b, 0) * act.scale[i])
        if let term { tail += loadHalf(b, term.offset) * term.activation[i] }
        i += 1
    }
    return acc.sum() + (term?.factor ?? 0) * (extra.sum() + tail)
}

/// Σ_k W[k]·x[k] for one Q4_0 row: Σ d_w·(d_a·Σ q·a − 8·d_a·Σa), q the unsigned nibble.
@inline(__always) func dotQ4_0(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    dotBlocks32(row, act, blocks: blocks, blockBytes: 18, term: BlockTerm(offset: 0, activation: act.scaledSum, factor: -8)) {
        nibbleBlockSums($0 + 2, $1)
    }
}

/// Q4_1 with Q8_1 activations: Σ d_w·d_a·Σ q·a + m_w·s_a.
@inline(__always) func dotQ4_1(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    dotBlocks32(row, act, blocks: blocks, blockBytes: 20, term: BlockTerm(offset: 2, activation: act.sum, factor: 1)) {
        nibbleBlockSums($0 + 4, $1)
    }
}

@inline(__always) func dotQ5_0(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    dotBlocks32(row, act, blocks: blocks, blockBytes: 22, term: BlockTerm(offset: 0, activation: act.scaledSum, factor: -16)) {
        nibbleBlockSums($0 + 6, $1, high: fifthBitLanes($0.loadUnaligned(fromByteOffset: 2, as: UInt32.self).littleEndian))
    }
}

@inline(__always) func dotQ5_1(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    dotBlocks32(row, act, blocks: blocks, blockBytes: 24, term: BlockTerm(offset: 2, activation: act.sum, factor: 1)) {
        nibbleBlockSums($0 + 8, $1, high: fifthBitLanes($0.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian))
    }
}

/// Q8_0 weights: 32 signed bytes; the even bytes are sign-extended by shifting up and back down.
@inline(__always) func dotQ8_0(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    dotBlocks32(row, act, blocks: blocks, blockBytes: 34, term: nil) { b, a in
        let v = b.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int16>.self)
        let (ae, ao) = loadActivations(a, 0)
        // |w·a| ≤ 128·127: a pair fits Int16 but four would not, so widen before folding the halves.
        let p = ((v &<< 8) &>> 8) &* ae &+ (v &>> 8) &* ao
        return widenPairs(p.lowHalf) &+ widenPairs(p.highHalf)
    }
}

/// Σ_j min_j·(Σa over sub-block j) for a Q4_K/Q5_K block: sub-block j is bsums 2j and 2j + 1.
@inline(__always) func minSums(_ mins: UInt64, _ bsums: UnsafePointer<Int32>) -> Int32 {
    let raw = UnsafeRawPointer(bsums)
    let s = raw.loadUnaligned(as: SIMD16<Int32>.self)
    let m = SIMD8<Int32>(truncatingIfNeeded: unsafeBitCast(mins, to: SIMD8<UInt8>.self))
    return (m &* (s.evenHalf &+ s.oddHalf)).wrappedSum()
}

/// Q4_K with Q8_K activations: per super-block Σ_j d·scale_j·d_a·(Σ q·a)_j − dmin·d_a·Σ_j min_j·(Σa)_j.
@inline(__always) func dotQ4_K(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    var acc = SIMD4<Float>(), minTerm: Float = 0
    for i in 0..<blocks {
        let b = row + 144 * i, a = act.q + 256 * i, bsums = act.groupSums + 16 * i
        let da = act.scale[i], d = loadHalf(b, 0) * da
        let (scales, mins) = kScalesAndMins(b + 4)
        for c in 0..<4 {
            let s1 = byte(scales, 2 * c), s2 = byte(scales, 2 * c + 1)
            let v = b.loadUnaligned(fromByteOffset: 16 + 32 * c, as: SIMD16<UInt16>.self)
            let (ae1, ao1) = loadActivations(a, 64 * c), (ae2, ao2) = loadActivations(a, 64 * c + 32)
            let p1 = int16(v & 0x000F) &* ae1 &+ int16((v &>> 8) & 0x000F) &* ao1
            let p2 = int16((v &>> 4) & 0x000F) &* ae2 &+ int16(v &>> 12) &* ao2
            acc += SIMD4<Float>(sum4(p1)) * (d * Float(s1)) + SIMD4<Float>(sum4(p2)) * (d * Float(s2))
        }
        minTerm += loadHalf(b, 2) * da * Float(minSums(mins, bsums))
    }
    return acc.sum() - minTerm
}

@inline(__always) func dotQ5_K(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    var acc = SIMD4<Float>(), minTerm: Float = 0
    for i in 0..<blocks {
        let b = row + 176 * i, a = act.q + 256 * i, bsums = act.groupSums + 16 * i
        let da = act.scale[i], d = loadHalf(b, 0) * da
        let h = b.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt16>.self)   // qh[2i] | qh[2i+1] << 8
        let (scales, mins) = kScalesAndMins(b + 4)
        for c in 0..<4 {
            let s1 = byte(scales, 2 * c), s2 = byte(scales, 2 * c + 1)
            let v = b.loadUnaligned(fromByteOffset: 48 + 32 * c, as: SIMD16<UInt16>.self)
            let k1 = UInt16(2 * c), k2 = UInt16(2 * c + 1)
            let (ae1, ao1) = loadActivations(a, 64 * c), (ae2, ao2) = loadActivations(a, 64 * c + 32)
            let e1 = (v & 0x000F) | (((h &>> k1) & 1) &<< 4)
            let o1 = ((v &>> 8) & 0x000F) | (((h &>> (k1 + 8)) & 1) &<< 4)
            let e2 = ((v &>> 4) & 0x000F) | (((h &>> k2) & 1) &<< 4)
            let o2 = (v &>> 12) | (((h &>> (k2 + 8)) & 1) &<< 4)
            let p1 = int16(e1) &* ae1 &+ int16(o1) &* ao1
            let p2 = int16(e2) &* ae2 &+ int16(o2) &* ao2
            acc += SIMD4<Float>(sum4(p1)) * (d * Float(s1)) + SIMD4<Float>(sum4(p2)) * (d * Float(s2))
        }
        minTerm += loadHalf(b, 2) * da * Float(minSums(mins, bsums))
    }
    return acc.sum() - minTerm
}

/// Q6_K with Q8_K activations: d·d_a·(Σ_g scale_g·(Σ q·a)_g − 32·Σ_g scale_g·(Σa)_g), q unsigned 0..63.
@inline(__always) func dotQ6_K(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    var acc = SIMD4<Float>(), offsetTerm: Float = 0
    for i in 0..<blocks {
        let b = row + 210 * i, a = act.q + 256 * i, bsums = act.groupSums + 16 * i
        let d = loadHalf(b, 208) * act.scale[i]
        var offset: Int32 = 0
        for g in 0..<16 {
            offset &+= Int32(b.load(fromByteOffset: 192 + g, as: Int8.self)) &* bsums[g]
        }
        offsetTerm += d * Float(32 &* offset)
        for half in 0..<2 {
            let qlA = b.loadUnaligned(fromByteOffset: 64 * half, as: SIMD16<UInt16>.self)
            let qlB = b.loadUnaligned(fromByteOffset: 64 * half + 32, as: SIMD16<UInt16>.self)
            let qh = b.loadUnaligned(fromByteOffset: 128 + 32 * half, as: SIMD16<UInt16>.self)
            for k in 0..<4 {
                let low = (k & 1 == 0 ? qlA : qlB) &>> UInt16(4 * (k >> 1))
                let shift = UInt16(2 * k)
                let even = (low & 0x000F) | (((qh &>> shift) & 3) &<< 4)
                let odd = ((low &>> 8) & 0x000F) | (((qh &>> (shift + 8)) & 3) &<< 4)
                let (ae, ao) = loadActivations(a, 128 * half + 32 * k)
                let p = int16(even) &* ae &+ int16(odd) &* ao   // ≤ 2·63·127 per lane
                // Lanes 0-7 are weights 0-15 of this 32 (scale 2k), lanes 8-15 weights 16-31 (2k + 1).
                let sc = b + 192 + 8 * half + 2 * k
                acc += SIMD4<Float>(widenPairs(p.lowHalf)) * (d * Float(sc.load(as: Int8.self)))
                    + SIMD4<Float>(widenPairs(p.highHalf)) * (d * Float(sc.load(fromByteOffset: 1, as: Int8.self)))
            }
        }
    }
    return acc.sum() - offsetTerm
}

/// f16 weights with f32 activations, 16 per step in two accumulators.
@inline(__always) func dotF16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), k = 0
    let xr = UnsafeRawPointer(x)
    while k + 16 <= count {
        acc0 += halfBitsToFloat(row.loadUnaligned(fromByteOffset: 2 * k, as: SIMD8<UInt16>.self))
            * xr.loadUnaligned(fromByteOffset: 4 * k, as: SIMD8<Float>.self)
        acc1 += halfBitsToFloat(row.loadUnaligned(fromByteOffset: 2 * k + 16, as: SIMD8<UInt16>.self))
            * xr.loadUnaligned(fromByteOffset: 4 * k + 32, as: SIMD8<Float>.self)
        k += 16
    }
    var tail: Float = 0
    while k < count {
        tail += halfBitsToFloat(row.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self)) * x[k]
        k += 1
    }
    return (acc0 + acc1).sum() + tail
}

/// bf16 weights with f32 activations: a bf16 is the top half of a float, so widening is a shift.
@inline(__always) func dotBF16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), k = 0
    let xr = UnsafeRawPointer(x)
    @inline(__always) func widen(_ offset: Int) -> SIMD8<Float> {
        let h = row.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt16>.self)
        return unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: h) &<< 16, to: SIMD8<Float>.self)
    }
    while k + 16 <= count {
        acc0 += widen(2 * k) * xr.loadUnaligned(fromByteOffset: 4 * k, as: SIMD8<Float>.self)
        acc1 += widen(2 * k + 16) * xr.loadUnaligned(fromByteOffset: 4 * k + 32, as: SIMD8<Float>.self)
        k += 16
    }
    var tail: Float = 0
    while k < count {
        tail += bfloat16ToFloat(row.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self)) * x[k]
        k += 1
    }
    return (acc0 + acc1).sum() + tail
}
