// The row-dot path for several tokens at once (2 ≤ batch < rowDotBatchLimit(cols:): prefill chunks, short
// prompts). The single-token kernels (VecDot.swift) decode each weight block inside the dot product;
// done per token, that decoding (nibble splits, f16 scales, K-quant scale unpacking) would be
// repeated batch times. Here a row is decoded once into 16-bit integers and float scales, in L1, and
// each token's dot product is then only pair-multiply-adds (pmaddwd) against those integers.
// The integers and their sums are exactly those of the single-token kernels and of
// Reference.quantizedDotMatmul (the scalar twin); only the float summation order differs.

/// One weight row decoded for the multi-token dot: integers q in natural order and per-block scales.
///
/// - 32-weight types: q is the signed weight integer (Q4_0: nibble − 8, Q5_0: − 16, Q8_0 as stored,
///   Q4_1/Q5_1 the unsigned value), `scale` is d, `minimum` is m (Q4_1/Q5_1 only). Q4_0/Q4_1 are in
///   nibbleBlockSums' lane order, half of them times 16, to face `.q8Nibbles` activations.
/// - K-quants: q already carries its sub-block scale (Q4_K/Q5_K: q·scale_j ≤ 31·63; Q6_K:
///   (q − 32)·scale_g, |·| ≤ 32·128), so a super-block is one integer sum; `scale` is d, `minimum`
///   dmin, and `mins` the 8 sub-block mins, each twice (they pair with the activations' 16-sums).
struct UnpackedRow {
    let type: GGMLType
    let blocks: Int
    let q: UnsafeMutablePointer<Int16>
    let scale: UnsafeMutablePointer<Float>
    let minimum: UnsafeMutablePointer<Float>
    let mins: UnsafeMutablePointer<Int16>

    init(type: GGMLType, cols: Int) {
        self.type = type
        blocks = cols / type.blockSize
        q = .allocate(capacity: cols)
        scale = .allocate(capacity: blocks)
        minimum = .allocate(capacity: blocks)
        mins = .allocate(capacity: type.blockSize == 256 ? 16 * blocks : 0)
    }

    func deallocate() { q.deallocate(); scale.deallocate(); minimum.deallocate(); mins.deallocate() }

    private func store(_ v: SIMD16<Int16>, at offset: Int) {
        UnsafeMutableRawPointer(q + offset).storeBytes(of: v, as: SIMD16<Int16>.self)
    }

    /// Decodes one stored row (`blocks` blocks of `type`).
    func unpack(_ row: UnsafeRawPointer) {
        // One loop per type (the type test hoisted out of the block loop).
        switch type {
        case .q4_0: unpackBlocks(row, .q4_0)
        case .q4_1: unpackBlocks(row, .q4_1)
        case .q5_0: unpackBlocks(row, .q5_0)
        case .q5_1: unpackBlocks(row, .q5_1)
        case .q8_0: unpackBlocks(row, .q8_0)
        case .q4_K: unpackBlocks(row, .q4_K)
        case .q5_K: unpackBlocks(row, .q5_K)
        case .q6_K: unpackBlocks(row, .q6_K)
        default: preconditionFailure("no 8-bit dot kernel for \(type)")
        }
    }

    @inline(__always) private func unpackBlocks(_ row: UnsafeRawPointer, _ type: GGMLType) {
        for i in 0..<blocks {
            let b = row + type.blockBytes * i
            switch type {
            case .q4_0, .q4_1:
                // nibbleBlockSums' layout (the activations are `.q8Nibbles`): lanes 8-15 of each
                // vector hold 16·q.
                let pairs = b.loadUnaligned(fromByteOffset: type == .q4_0 ? 2 : 4, as: SIMD8<UInt16>.self)
                let v = unsafeBitCast(SIMD16<UInt16>(lowHalf: pairs, highHalf: pairs), to: SIMD16<Int16>.self)
                let mask = SIMD16<Int16>(0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0x0F, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0, 0xF0)
                let offset = type == .q4_0 ? SIMD16<Int16>(8, 8, 8, 8, 8, 8, 8, 8, 128, 128, 128, 128, 128, 128, 128, 128) : SIMD16()
                store((v & mask) &- offset, at: 32 * i)
                store(((v &>> 8) & mask) &- offset, at: 32 * i + 16)
            case .q5_0, .q5_1:
                let hasMin = type == .q5_1
                let v = zeroExtended(b, hasMin ? 8 : 6), offset: Int16 = hasMin ? 0 : 16
                let high = fifthBitLanes(b.loadUnaligned(fromByteOffset: hasMin ? 4 : 2, as: UInt32.self).littleEndian)
                store(((v & 0x0F) | high.low) &- offset, at: 32 * i)
                store(((v &>> 4) | high.high) &- offset, at: 32 * i + 16)
            case .q8_0:
                store(signExtended(b, 2), at: 32 * i)
                store(signExtended(b, 18), at: 32 * i + 16)
            case .q4_K, .q5_K:
                let isQ5 = type == .q5_K, qs = isQ5 ? 48 : 16
                let (scales, packedMins) = kScalesAndMins(b + 4)
                let h0 = isQ5 ? zeroExtended(b, 16) : SIMD16(), h1 = isQ5 ? zeroExtended(b, 32) : SIMD16()
                for c in 0..<4 {
                    let k1 = Int16(2 * c), k2 = Int16(2 * c + 1)
                    let v0 = zeroExtended(b, qs + 32 * c), v1 = zeroExtended(b, qs + 16 + 32 * c)
                    let s1 = Int16(byte(scales, 2 * c)), s2 = Int16(byte(scales, 2 * c + 1))
                    store(((v0 & 0x0F) | (((h0 &>> k1) & 1) &<< 4)) &* s1, at: 256 * i + 64 * c)
                    store(((v1 & 0x0F) | (((h1 &>> k1) & 1) &<< 4)) &* s1, at: 256 * i + 64 * c + 16)
                    store(((v0 &>> 4) | (((h0 &>> k2) & 1) &<< 4)) &* s2, at: 256 * i + 64 * c + 32)
                    store(((v1 &>> 4) | (((h1 &>> k2) & 1) &<< 4)) &* s2, at: 256 * i + 64 * c + 48)
                }
                for j in 0..<8 {
                    let m = Int16(byte(packedMins, j))
                    mins[16 * i + 2 * j] = m; mins[16 * i + 2 * j + 1] = m
                }
                minimum[i] = loadHalf(b, 2)
            case .q6_K:
                let groupScales = signExtended(b, 192)
                for half in 0..<2 {
                    for l in stride(from: 0, to: 32, by: 16) {
                        let ql0 = zeroExtended(b, 64 * half + l), ql1 = zeroExtended(b, 64 * half + 32 + l)
                        let qh = zeroExtended(b, 128 + 32 * half + l)
                        let g = 8 * half + l / 16, o = 256 * i + 128 * half + l
                        store((((ql0 & 0x0F) | ((qh &<< 4) & 0x30)) &- 32) &* groupScales[g], at: o)
                        store((((ql1 & 0x0F) | ((qh &<< 2) & 0x30)) &- 32) &* groupScales[g + 2], at: o + 32)
                        store((((ql0 &>> 4) | (qh & 0x30)) &- 32) &* groupScales[g + 4], at: o + 64)
                        store((((ql1 &>> 4) | ((qh &>> 2) & 0x30)) &- 32) &* groupScales[g + 6], at: o + 96)
                    }
                }
            default:
                preconditionFailure("no 8-bit dot kernel for \(type)")
            }
            switch type {
            case .q6_K: scale[i] = loadHalf(b, 208)
            default: scale[i] = loadHalf(b, 0)
            }
            if type == .q4_1 || type == .q5_1 { minimum[i] = loadHalf(b, 2) }
        }
    }

    /// Σ_k W[k]·x[k] against one token's activations.
    func dot(_ act: ActivationRow) -> Float {
        type.blockSize == 256 ? dotSuperBlocks(act) : dotBlocks(act)
    }

    /// 32-weight types: Σ_i d_w·d_a·(Σ q·a)_i (+ m·s for Q4_1/Q5_1), eight blocks per step as in
    /// dotBlocks32, with the scales already floats in memory.
    private func dotBlocks(_ act: ActivationRow) -> Float {
        @inline(__always) func blockSums(_ i: Int) -> SIMD8<Int32> {
            madd(activations(q, 32 * i), activations(act.q, 32 * i)) &+ madd(activations(q, 32 * i + 16), activations(act.q, 32 * i + 16))
        }
        @inline(__always) func eight(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
        }
        let hasMin = type == .q4_1 || type == .q5_1
        var acc = SIMD8<Float>(), extra = SIMD8<Float>(), i = 0
        while i + 8 <= blocks {
            let sums = laneSums(blockSums(i), blockSums(i + 1), blockSums(i + 2), blockSums(i + 3),
                                blockSums(i + 4), blockSums(i + 5), blockSums(i + 6), blockSums(i + 7))
            acc += toFloat(sums) * (eight(scale + i) * eight(act.scale + i))
            if hasMin { extra += eight(minimum + i) * eight(act.sum + i) }
            i += 8
        }
        var tail: Float = 0, tailSums: Float = 0
        while i < blocks {
            tailSums += Float(blockSums(i).wrappedSum()) * (scale[i] * act.scale[i])
            if hasMin { tail += minimum[i] * act.sum[i] }
            i += 1
        }
        let integerScale: Float = type == .q4_0 || type == .q4_1 ? 1.0 / 16 : 1
        return integerScale * (horizontalSum(acc) + tailSums) + horizontalSum(extra) + tail
    }

    /// K-quants: per super-block d·d_a·Σ q·a (the scales are inside q) − dmin·d_a·Σ_j min_j·(Σa)_j.
    private func dotSuperBlocks(_ act: ActivationRow) -> Float {
        let hasMin = type != .q6_K
        var acc = SIMD8<Float>(), minTerm: Float = 0
        for i in 0..<blocks {
            let w = q + 256 * i, a = act.q + 256 * i
            @inline(__always) func part(_ o: Int) -> SIMD8<Int32> {
                (madd(activations(w, o), activations(a, o)) &+ madd(activations(w, o + 16), activations(a, o + 16)))
                    &+ (madd(activations(w, o + 32), activations(a, o + 32)) &+ madd(activations(w, o + 48), activations(a, o + 48)))
            }
            let sum = (part(0) &+ part(64)) &+ (part(128) &+ part(192))
            acc += toFloat(sum) * (scale[i] * act.scale[i])
            if hasMin {
                let m = madd(activations(mins, 16 * i), activations(act.groupSums, 16 * i)).wrappedSum()
                minTerm += minimum[i] * act.scale[i] * Float(m)
            }
        }
        return horizontalSum(acc) - minTerm
    }
}
