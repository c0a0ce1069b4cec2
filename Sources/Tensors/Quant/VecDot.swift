// Dot products of one stored weight row with one activation row, read straight from the blocks.
// Quantized types take 8-bit activations (QuantizedActivations) and multiply integers, as llama.cpp's
// ggml_vec_dot_<type>_q8_0/q8_1/q8_K do: per block an exact integer sum, then one float multiply by
// the two scales. Floats (f16, bf16) take f32 activations. Reference.quantizedDotMatmul is the scalar twin.
//
// Lanes: 16 weight bytes are widened to 16-bit lanes in order (vpmovzxbw/vpmovsxbw), split into
// nibbles or joined with their high bits there, and multiplied with 16 activations (Int16 in memory,
// the same order) as Int32 sums of adjacent lane pairs: `madd`, which LLVM lowers to one pmaddwd
// (AVX2: 16 products an instruction, summed into 8 Int32, where the pmullw form needed three more
// instructions to widen). Everything is Swift SIMD; stdlib's vector conversions between element types
// are not inlined (each is a call), so the widenings below are written lane by lane, which LLVM
// turns into single vector instructions.

/// Σ over lane pairs: result lane i = w[2i]·a[2i] + w[2i + 1]·a[2i + 1] in Int32 (pmaddwd). Exact for any
/// Int16 inputs except both pairs at −32768, which no weight here reaches.
@inline(__always) func madd(_ w: SIMD16<Int16>, _ a: SIMD16<Int16>) -> SIMD8<Int32> {
    let p = int32(w) &* int32(a)
    return p.evenHalf &+ p.oddHalf
}

@inline(__always) func int32(_ v: SIMD16<Int16>) -> SIMD16<Int32> {
    var r = SIMD16<Int32>()
    for i in 0..<16 { r[i] = Int32(truncatingIfNeeded: v[i]) }
    return r
}

/// 16 bytes at `p + offset` as unsigned values in 16-bit lanes.
@inline(__always) func zeroExtended(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD16<Int16> {
    let b = p.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
    var r = SIMD16<Int16>()
    for i in 0..<16 { r[i] = Int16(truncatingIfNeeded: b[i]) }
    return r
}

/// 16 bytes at `p + offset` as signed values in 16-bit lanes.
@inline(__always) func signExtended(_ p: UnsafeRawPointer, _ offset: Int) -> SIMD16<Int16> {
    let b = p.loadUnaligned(fromByteOffset: offset, as: SIMD16<Int8>.self)
    var r = SIMD16<Int16>()
    for i in 0..<16 { r[i] = Int16(b[i]) }
    return r
}

/// 16 activations starting at index `offset`.
@inline(__always) func activations(_ q: UnsafePointer<Int16>, _ offset: Int) -> SIMD16<Int16> {
    UnsafeRawPointer(q + offset).loadUnaligned(as: SIMD16<Int16>.self)
}

/// Σ of the lanes as a tree (3 dependent adds; `sum()` adds them one after another).
@inline(__always) func horizontalSum(_ v: SIMD8<Float>) -> Float {
    let four = v.lowHalf + v.highHalf, two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}

/// 16·Σ q·a over a 32-weight block of 4-bit weights (16 bytes at `qs`; weight j < 16 is the low
/// nibble of byte j, weight j + 16 its high nibble) against `.q8Nibbles` activations: the bytes are
/// loaded as 8 lanes of byte pairs into both halves, and one mask per half picks low nibbles in the
/// lower half and (unshifted, so times 16) high nibbles in the upper: one load and three logic
/// operations where widening bytes took six (KernelBench-style loop: 7% faster).
@inline(__always) func nibbleBlockSums(_ qs: UnsafeRawPointer, _ a: UnsafePointer<Int16>) -> SIMD8<Int32> {
    let pairs = qs.loadUnaligned(as: SIMD8<UInt16>.self)
    let v = SIMD16<UInt16>(lowHalf: pairs, highHalf: pairs)
    let mask = SIMD16<UInt16>(0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0)
    let even = unsafeBitCast(v & mask, to: SIMD16<Int16>.self), odd = unsafeBitCast((v &>> 8) & mask, to: SIMD16<Int16>.self)
    return madd(even, activations(a, 0)) &+ madd(odd, activations(a, 16))   // ≤ 4·15·16·127 per lane
}

/// Σ q·a over a 32-weight Q5 block: the nibbles as in nibbleBlockSums but widened in natural order
/// (weight j < 16 in lane j of the first vector), with the fifth bits (0 or 16) added.
@inline(__always) func fiveBitBlockSums(_ qs: UnsafeRawPointer, _ a: UnsafePointer<Int16>,
                                        high: (low: SIMD16<Int16>, high: SIMD16<Int16>)) -> SIMD8<Int32> {
    let v = zeroExtended(qs, 0)
    return madd((v & 0x0F) | high.low, activations(a, 0)) &+ madd((v &>> 4) | high.high, activations(a, 16))
}

/// Fifth bits of a Q5 block's qh (bit j for weight j) as 0 or 16 per lane, for weights 0-15 and
/// 16-31. AVX2 has no per-lane 16-bit shift; multiplying lane j by 2^(15 − j) moves bit j of every
/// lane's copy of qh to bit 15 at once.
@inline(__always) func fifthBitLanes(_ qh: UInt32) -> (low: SIMD16<Int16>, high: SIMD16<Int16>) {
    let toTop = SIMD16<UInt16>(1 << 15, 1 << 14, 1 << 13, 1 << 12, 1 << 11, 1 << 10, 1 << 9, 1 << 8,
                               1 << 7, 1 << 6, 1 << 5, 1 << 4, 1 << 3, 1 << 2, 1 << 1, 1)
    @inline(__always) func lanes(_ h: UInt32) -> SIMD16<Int16> {
        let bits = (SIMD16<UInt16>(repeating: UInt16(truncatingIfNeeded: h)) &* toTop) &>> 15
        return unsafeBitCast(bits &<< 4, to: SIMD16<Int16>.self)
    }
    return (lanes(qh), lanes(qh >> 16))
}

/// The second term of a 32-weight block type's dot product: factor·Σ_i e_w·t_a with e_w the f16 at
/// byte `offset` of block i and t_a = `activation[i]` (Q4_1/Q5_1: m·s; Q4_0/Q5_0: d·(d_a·Σa) with
/// factor −8/−16, the unsigned nibbles' offset).
struct BlockTerm {
    let offset: Int
    let activation: UnsafePointer<Float>
    let factor: Float
}

/// Lane k of the result is the sum of the 8 lanes of the k-th argument. Two rounds of adding
/// adjacent lanes within each 128-bit half (`pairs`: AVX2's in-lane vphaddd, no cross-half
/// shuffle) leave each argument's low- and high-half sums side by side; one add of the two halves
/// finishes them. (Adding pairs across the whole vector needs a vpermq after every vphaddd: 14
/// shuffles per 8 blocks instead of 9, and the Q4_0 loop of dotBlocks32 ran 13% slower.)
@inline(__always) func laneSums(_ s0: SIMD8<Int32>, _ s1: SIMD8<Int32>, _ s2: SIMD8<Int32>, _ s3: SIMD8<Int32>,
                                _ s4: SIMD8<Int32>, _ s5: SIMD8<Int32>, _ s6: SIMD8<Int32>, _ s7: SIMD8<Int32>) -> SIMD8<Int32> {
    /// [a0+a1, a2+a3, b0+b1, b2+b3 | a4+a5, a6+a7, b4+b5, b6+b7].
    @inline(__always) func pairs(_ a: SIMD8<Int32>, _ b: SIMD8<Int32>) -> SIMD8<Int32> {
        let c = SIMD16<Int32>(lowHalf: SIMD8(lowHalf: a.lowHalf, highHalf: b.lowHalf),
                              highHalf: SIMD8(lowHalf: a.highHalf, highHalf: b.highHalf))
        return c.evenHalf &+ c.oddHalf
    }
    // x = [Σ s0..s3 over their low halves | the same over their high halves]; y likewise for s4..s7.
    let x = pairs(pairs(s0, s1), pairs(s2, s3)), y = pairs(pairs(s4, s5), pairs(s6, s7))
    return SIMD8(lowHalf: x.lowHalf, highHalf: y.lowHalf) &+ SIMD8(lowHalf: x.highHalf, highHalf: y.highHalf)
}

/// The shared loop of the 32-weight block types: Σ_i d_w·d_a·(Σ q·a)_i plus `term`, d_w the f16 at
/// byte 0 of each block. Eight blocks at a time: their integer sums are folded into one vector (lane
/// = block), so the float conversion, the two scales and the f16 decoding of d_w each take one
/// 8-lane step instead of one per block (KernelBench-style loop on a 4096×4096 Q4_0 matrix in cache:
/// 0.80 ms against 1.84 ms when each block's 8 partial sums were converted and scaled on their own).
@inline(__always) func dotBlocks32(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int, blockBytes: Int, term: BlockTerm?,
                                   integerScale: Float = 1,
                                   _ blockSums: (UnsafeRawPointer, UnsafePointer<Int16>) -> SIMD8<Int32>) -> Float {
    @inline(__always) func halves(_ b: UnsafeRawPointer, _ offset: Int) -> SIMD8<Float> {
        var h = SIMD8<UInt16>()
        for k in 0..<8 { h[k] = b.loadUnaligned(fromByteOffset: offset + k * blockBytes, as: UInt16.self) }
        return halfBitsToFloat(h)
    }
    /// d and m of Q4_1/Q5_1 (bytes 0-3): one 32-bit load per block for both, split after.
    @inline(__always) func halfPairs(_ b: UnsafeRawPointer) -> (SIMD8<Float>, SIMD8<Float>) {
        var w = SIMD8<UInt32>()
        for k in 0..<8 { w[k] = b.loadUnaligned(fromByteOffset: k * blockBytes, as: UInt32.self).littleEndian }
        return (halfBitsToFloat(w & 0xFFFF), halfBitsToFloat(w &>> 16))
    }
    @inline(__always) func eight(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }
    var acc = SIMD8<Float>(), extra = SIMD8<Float>(), i = 0
    while i + 8 <= blocks {
        let b = row + blockBytes * i, a = act.q + 32 * i
        let sums = laneSums(blockSums(b, a), blockSums(b + blockBytes, a + 32),
                            blockSums(b + 2 * blockBytes, a + 64), blockSums(b + 3 * blockBytes, a + 96),
                            blockSums(b + 4 * blockBytes, a + 128), blockSums(b + 5 * blockBytes, a + 160),
                            blockSums(b + 6 * blockBytes, a + 192), blockSums(b + 7 * blockBytes, a + 224))
        let d: SIMD8<Float>, e: SIMD8<Float>
        switch term?.offset {
        case 2?: (d, e) = halfPairs(b)
        case 0?: d = halves(b, 0); e = d
        default: d = halves(b, 0); e = SIMD8()
        }
        acc += toFloat(sums) * (d * eight(act.scale + i))
        if let term { extra += e * eight(term.activation + i) }
        i += 8
    }
    var tail: Float = 0, tailTerm: Float = 0
    while i < blocks {
        let b = row + blockBytes * i
        tail += Float(blockSums(b, act.q + 32 * i).wrappedSum()) * (loadHalf(b, 0) * act.scale[i])
        if let term { tailTerm += loadHalf(b, term.offset) * term.activation[i] }
        i += 1
    }
    return integerScale * (horizontalSum(acc) + tail) + (term?.factor ?? 0) * (horizontalSum(extra) + tailTerm)
}

/// Σ_k W[k]·x[k] for one Q4_0 row: Σ d_w·(d_a·Σ q·a − 8·d_a·Σa), q the unsigned nibble.
@inline(__always) func dotQ4_0(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    dotBlocks32(row, act, blocks: blocks, blockBytes: 18, term: BlockTerm(offset: 0, activation: act.scaledSum, factor: -8),
                integerScale: 1.0 / 16) {
        nibbleBlockSums($0 + 2, $1)
    }
}

/// Q4_1 with Q8_1 activations: Σ d_w·d_a·Σ q·a + m_w·s_a.
@inline(__always) func dotQ4_1(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    dotBlocks32(row, act, blocks: blocks, blockBytes: 20, term: BlockTerm(offset: 2, activation: act.sum, factor: 1),
                integerScale: 1.0 / 16) {
        nibbleBlockSums($0 + 4, $1)
    }
}

@inline(__always) func dotQ5_0(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    dotBlocks32(row, act, blocks: blocks, blockBytes: 22, term: BlockTerm(offset: 0, activation: act.scaledSum, factor: -16)) {
        fiveBitBlockSums($0 + 6, $1, high: fifthBitLanes($0.loadUnaligned(fromByteOffset: 2, as: UInt32.self).littleEndian))
    }
}

@inline(__always) func dotQ5_1(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    dotBlocks32(row, act, blocks: blocks, blockBytes: 24, term: BlockTerm(offset: 2, activation: act.sum, factor: 1)) {
        fiveBitBlockSums($0 + 8, $1, high: fifthBitLanes($0.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian))
    }
}

/// Q8_0 weights: 32 signed bytes, sign-extended 16 at a time.
@inline(__always) func dotQ8_0(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    dotBlocks32(row, act, blocks: blocks, blockBytes: 34, term: nil) { b, a in
        madd(signExtended(b, 2), activations(a, 0)) &+ madd(signExtended(b, 18), activations(a, 16))
    }
}

/// Σ_j min_j·(Σa over sub-block j) for a Q4_K/Q5_K block: sub-block j is bsums 2j and 2j + 1, so each
/// min goes in two adjacent lanes and one pair-multiply-add does the sum.
@inline(__always) func minSums(_ mins: UInt64, _ bsums: UnsafePointer<Int16>) -> Int32 {
    var m = SIMD16<Int16>()
    for j in 0..<8 {
        let v = Int16(byte(mins, j))
        m[2 * j] = v; m[2 * j + 1] = v
    }
    return madd(m, activations(bsums, 0)).wrappedSum()
}

/// Q4_K with Q8_K activations: per super-block d·d_a·Σ_j scale_j·(Σ q·a)_j − dmin·d_a·Σ_j min_j·(Σa)_j.
/// The 6-bit scales multiply the Int32 sums, so a super-block is converted to float once
/// (|Σ| ≤ 256·15·63·127 < 2^31).
@inline(__always) func dotQ4_K(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    var acc = SIMD8<Float>(), minTerm: Float = 0
    for i in 0..<blocks {
        let b = row + 144 * i, a = act.q + 256 * i
        let (scales, mins) = kScalesAndMins(b + 4)
        // Chunk c: 32 bytes of qs, low nibbles sub-block 2c, high nibbles 2c + 1. Called with constant
        // c so the scale bytes and offsets are immediates (a loop over c is not unrolled).
        @inline(__always) func chunk(_ c: Int) -> SIMD8<Int32> {
            let v0 = zeroExtended(b, 16 + 32 * c), v1 = zeroExtended(b, 32 + 32 * c)
            let low = madd(v0 & 0x0F, activations(a, 64 * c)) &+ madd(v1 & 0x0F, activations(a, 64 * c + 16))
            let high = madd(v0 &>> 4, activations(a, 64 * c + 32)) &+ madd(v1 &>> 4, activations(a, 64 * c + 48))
            return low &* Int32(byte(scales, 2 * c)) &+ high &* Int32(byte(scales, 2 * c + 1))
        }
        let sum = (chunk(0) &+ chunk(1)) &+ (chunk(2) &+ chunk(3))
        let da = act.scale[i]
        acc += toFloat(sum) * (loadHalf(b, 0) * da)
        minTerm += loadHalf(b, 2) * da * Float(minSums(mins, act.groupSums + 16 * i))
    }
    return horizontalSum(acc) - minTerm
}

/// Q5_K: Q4_K's nibbles plus a fifth bit from qh (bit j of qh[l] for weight l of sub-block j).
@inline(__always) func dotQ5_K(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    var acc = SIMD8<Float>(), minTerm: Float = 0
    for i in 0..<blocks {
        let b = row + 176 * i, a = act.q + 256 * i
        let (scales, mins) = kScalesAndMins(b + 4)
        let h0 = zeroExtended(b, 16), h1 = zeroExtended(b, 32)
        @inline(__always) func chunk(_ c: Int) -> SIMD8<Int32> {
            let k1 = Int16(2 * c), k2 = Int16(2 * c + 1)
            let v0 = zeroExtended(b, 48 + 32 * c), v1 = zeroExtended(b, 64 + 32 * c)
            let low0 = (v0 & 0x0F) | (((h0 &>> k1) & 1) &<< 4), low1 = (v1 & 0x0F) | (((h1 &>> k1) & 1) &<< 4)
            let high0 = (v0 &>> 4) | (((h0 &>> k2) & 1) &<< 4), high1 = (v1 &>> 4) | (((h1 &>> k2) & 1) &<< 4)
            let low = madd(low0, activations(a, 64 * c)) &+ madd(low1, activations(a, 64 * c + 16))
            let high = madd(high0, activations(a, 64 * c + 32)) &+ madd(high1, activations(a, 64 * c + 48))
            return low &* Int32(byte(scales, 2 * c)) &+ high &* Int32(byte(scales, 2 * c + 1))
        }
        let sum = (chunk(0) &+ chunk(1)) &+ (chunk(2) &+ chunk(3))
        let da = act.scale[i]
        acc += toFloat(sum) * (loadHalf(b, 0) * da)
        minTerm += loadHalf(b, 2) * da * Float(minSums(mins, act.groupSums + 16 * i))
    }
    return horizontalSum(acc) - minTerm
}

/// Q6_K with Q8_K activations: d·d_a·(Σ_g scale_g·(Σ q·a)_g − 32·Σ_g scale_g·(Σa)_g), q unsigned 0..63.
/// Each 16 lanes are one scale group, so the signed scale multiplies the weights in 16 bits
/// (|63·scale| ≤ 8064) before the pair-multiply-add, and a super-block is converted to float once.
@inline(__always) func dotQ6_K(_ row: UnsafeRawPointer, _ act: ActivationRow, blocks: Int) -> Float {
    var acc = SIMD8<Float>(), offsetTerm: Float = 0
    for i in 0..<blocks {
        let b = row + 210 * i, a = act.q + 256 * i
        let d = loadHalf(b, 208) * act.scale[i]
        let groupScales = signExtended(b, 192)
        offsetTerm += d * Float(32 &* madd(groupScales, activations(act.groupSums + 16 * i, 0)).wrappedSum())
        // Weights 128·half + l + 32k (+ 0..<16), k = 0..<4: low nibbles of ql[l], ql[l + 32], then their
        // high nibbles, each with two bits of qh[l] above them. Constant arguments, as in dotQ4_K.
        @inline(__always) func sixtyFour(_ half: Int, _ l: Int) -> SIMD8<Int32> {
            let ql0 = zeroExtended(b, 64 * half + l), ql1 = zeroExtended(b, 64 * half + 32 + l)
            let qh = zeroExtended(b, 128 + 32 * half + l)
            let q0 = (ql0 & 0x0F) | ((qh &<< 4) & 0x30), q1 = (ql1 & 0x0F) | ((qh &<< 2) & 0x30)
            let q2 = (ql0 &>> 4) | (qh & 0x30), q3 = (ql1 &>> 4) | ((qh &>> 2) & 0x30)
            let g = 8 * half + l / 16, o = 128 * half + l
            return (madd(q0 &* groupScales[g], activations(a, o)) &+ madd(q1 &* groupScales[g + 2], activations(a, o + 32)))
                &+ (madd(q2 &* groupScales[g + 4], activations(a, o + 64)) &+ madd(q3 &* groupScales[g + 6], activations(a, o + 96)))
        }
        let sum = (sixtyFour(0, 0) &+ sixtyFour(0, 16)) &+ (sixtyFour(1, 0) &+ sixtyFour(1, 16))
        acc += toFloat(sum) * d
    }
    return horizontalSum(acc) - offsetTerm
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
        return unsafeBitCast(widened(h) &<< 16, to: SIMD8<Float>.self)
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
