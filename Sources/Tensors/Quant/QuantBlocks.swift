// Block layouts of ggml-common.h (ggml-org/llama.cpp), decoded exactly as gguf-py 0.19.0's
// gguf/quants.py decodes them: the same float operations in the same order, so every value is
// bitwise equal to `gguf.quants.dequantize` (QuantTests checks this on committed fixture blocks).
//
// Blocks are read with `loadUnaligned` straight from the memory-mapped file: a GGUF tensor is only
// 32-byte aligned as a whole, and an 18-byte Q4_0 block puts every other block at an odd address.

/// f16 bits to Float, exact for every input (normals, subnormals, ±0, ±inf, NaN payloads) without
/// F16C: `Float(Float16(bitPattern:))` is a library call per value unless the build targets F16C, and
/// the dot kernels convert one or two scales per 32 weights. Placing the f16 exponent and mantissa in
/// a float's fields gives 2^-112 times the value (an f16 subnormal lands on an f32 subnormal with the
/// same scaling), so one exact multiply by 2^112 rebiases it; the f16 inf/NaN exponent is then patched.
@inline(__always) func halfBitsToFloat(_ h: UInt16) -> Float {
    let magnitude = Float(bitPattern: UInt32(h & 0x7FFF) << 13) * Float(bitPattern: 0x7780_0000)
    let infOrNaN: UInt32 = h & 0x7C00 == 0x7C00 ? 0x7F80_0000 : 0
    return Float(bitPattern: magnitude.bitPattern | infOrNaN | UInt32(h & 0x8000) << 16)
}

/// Eight f16 values to Float by the same exact arithmetic, lane-wise with no masks or compares
/// (SIMD compares are built lane by lane).
@inline(__always) func halfBitsToFloat(_ h: SIMD8<UInt16>) -> SIMD8<Float> {
    halfBitsToFloat(widened(h))
}

/// Eight f16 values held in the low 16 bits of 32-bit lanes (the high bits must be zero).
@inline(__always) func halfBitsToFloat(_ w: SIMD8<UInt32>) -> SIMD8<Float> {
    let magnitude = unsafeBitCast((w & 0x7FFF) &<< 13, to: SIMD8<Float>.self) * Float(bitPattern: 0x7780_0000)
    // Exponent 31 (inf/NaN) carries into bit 15 when 0x0400 is added; spread that bit to all ones.
    let infOrNaN = (0 &- (((w & 0x7C00) &+ 0x0400) &>> 15)) & 0x7F80_0000
    return unsafeBitCast(unsafeBitCast(magnitude, to: SIMD8<UInt32>.self) | infOrNaN | ((w & 0x8000) &<< 16),
                         to: SIMD8<Float>.self)
}

@inline(__always) func loadHalf(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    halfBitsToFloat(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}

// Conversions between vector element types, lane by lane: Swift's own SIMD conversions
// (`init(truncatingIfNeeded:)`, `SIMD8<Float>(SIMD8<Int32>)`) compile to a call into the standard
// library's pre-specialised generic code for every vector, while these loops inline to one vector
// instruction each (vpmovzx, vpmovsx, vcvtdq2ps, vpackusdw), on SSE2 builds too.

@inline(__always) func widened(_ v: SIMD8<UInt8>) -> SIMD8<UInt16> {
    var r = SIMD8<UInt16>()
    for i in 0..<8 { r[i] = UInt16(v[i]) }
    return r
}

@inline(__always) func widened(_ v: SIMD8<UInt16>) -> SIMD8<UInt32> {
    var r = SIMD8<UInt32>()
    for i in 0..<8 { r[i] = UInt32(v[i]) }
    return r
}

/// Lanes known to be < 2^16, to 16 bits.
@inline(__always) func narrowed(_ v: SIMD8<UInt32>) -> SIMD8<UInt16> {
    var r = SIMD8<UInt16>()
    for i in 0..<8 { r[i] = UInt16(truncatingIfNeeded: v[i]) }
    return r
}

@inline(__always) func toFloat(_ v: SIMD8<Int32>) -> SIMD8<Float> {
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = Float(v[i]) }
    return r
}

@inline(__always) func toFloat(_ v: SIMD8<Int8>) -> SIMD8<Float> {
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = Float(Int32(v[i])) }
    return r
}

/// Eight small unsigned integers (each < 2^24) to Float, exactly.
@inline(__always) func toFloat(_ v: SIMD8<UInt16>) -> SIMD8<Float> {
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = Float(Int32(v[i])) }
    return r
}

@inline(__always) func store(_ v: SIMD8<Float>, _ dst: UnsafeMutablePointer<Float>, _ offset: Int) {
    UnsafeMutableRawPointer(dst + offset).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Q4_0: 32 weights in 18 bytes: f16 d, then 16 bytes qs. Weight j < 16 is the low nibble of qs[j],
/// weight j + 16 its high nibble; x = d · (q − 8).
enum BlockQ4_0 {
    static let byteCount = 2 + 16

    @inline(__always) static func dequantize(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = SIMD8<Float>(repeating: loadHalf(b, 0))
        for half in 0..<2 {
            // Lane i holds qs[2i + 16·half... ] pairs: bytes 2i (low 8 bits) and 2i + 1 (high 8 bits).
            let v = widened(b.loadUnaligned(fromByteOffset: 2 + 8 * half, as: SIMD8<UInt8>.self))
            let lo = toFloat(v & 0x0F) - 8, hi = toFloat(v &>> 4) - 8
            store(d * lo, y, 8 * half)
            store(d * hi, y, 16 + 8 * half)
        }
    }
}

/// Q4_1: 32 weights in 20 bytes: f16 d, f16 m, 16 bytes qs (nibbles as Q4_0); x = d · q + m.
enum BlockQ4_1 {
    static let byteCount = 2 + 2 + 16

    @inline(__always) static func dequantize(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = SIMD8<Float>(repeating: loadHalf(b, 0)), m = SIMD8<Float>(repeating: loadHalf(b, 2))
        for half in 0..<2 {
            let v = widened(b.loadUnaligned(fromByteOffset: 4 + 8 * half, as: SIMD8<UInt8>.self))
            store(d * toFloat(v & 0x0F) + m, y, 8 * half)
            store(d * toFloat(v &>> 4) + m, y, 16 + 8 * half)
        }
    }
}

/// The fifth bits of weights base..base+7 from a Q5 block's little-endian 32-bit qh (bit j belongs
/// to weight j), as 0 or 16 per lane.
@inline(__always) func fifthBits(_ qh: UInt32, base: Int) -> SIMD8<UInt16> {
    let lanes = SIMD8<UInt32>(repeating: qh) &>> (SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7) &+ UInt32(base))
    return narrowed((lanes & 1) &<< 4)
}

/// Q5_0: 32 weights in 22 bytes: f16 d, 4 bytes qh (bit j is weight j's fifth bit), 16 bytes qs
/// (low four bits, nibbles as Q4_0); x = d · (q − 16).
enum BlockQ5_0 {
    static let byteCount = 2 + 4 + 16

    @inline(__always) static func dequantize(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = SIMD8<Float>(repeating: loadHalf(b, 0))
        let qh = b.loadUnaligned(fromByteOffset: 2, as: UInt32.self).littleEndian
        for half in 0..<2 {
            let v = widened(b.loadUnaligned(fromByteOffset: 6 + 8 * half, as: SIMD8<UInt8>.self))
            let lo = (v & 0x0F) | fifthBits(qh, base: 8 * half)
            let hi = (v &>> 4) | fifthBits(qh, base: 16 + 8 * half)
            store(d * (toFloat(lo) - 16), y, 8 * half)
            store(d * (toFloat(hi) - 16), y, 16 + 8 * half)
        }
    }
}

/// Q5_1: 32 weights in 24 bytes: f16 d, f16 m, 4 bytes qh, 16 bytes qs; x = d · q + m.
enum BlockQ5_1 {
    static let byteCount = 2 + 2 + 4 + 16

    @inline(__always) static func dequantize(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = SIMD8<Float>(repeating: loadHalf(b, 0)), m = SIMD8<Float>(repeating: loadHalf(b, 2))
        let qh = b.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
        for half in 0..<2 {
            let v = widened(b.loadUnaligned(fromByteOffset: 8 + 8 * half, as: SIMD8<UInt8>.self))
            let lo = (v & 0x0F) | fifthBits(qh, base: 8 * half)
            let hi = (v &>> 4) | fifthBits(qh, base: 16 + 8 * half)
            store(d * toFloat(lo) + m, y, 8 * half)
            store(d * toFloat(hi) + m, y, 16 + 8 * half)
        }
    }
}

/// Q8_0: 32 weights in 34 bytes: f16 d, 32 signed bytes qs; x = q · d.
enum BlockQ8_0 {
    static let byteCount = 2 + 32

    @inline(__always) static func dequantize(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = SIMD8<Float>(repeating: loadHalf(b, 0))
        for part in 0..<4 {
            let q = b.loadUnaligned(fromByteOffset: 2 + 8 * part, as: SIMD8<Int8>.self)
            store(toFloat(q) * d, y, 8 * part)
        }
    }
}

/// The eight 6-bit scales and eight 6-bit mins of a Q4_K/Q5_K block from its 12 packed bytes, byte j
/// of each result being sub-block j's. Bytes 0-3 hold scales 0-3 (low 6 bits) and the top 2 bits of
/// scales 4-7, bytes 4-7 the same for the mins, bytes 8-11 the low 4 bits of scales 4-7 (low nibble)
/// and of mins 4-7 (high nibble). Unpacked four at a time in 32-bit words, as ggml does.
@inline(__always) func kScalesAndMins(_ p: UnsafeRawPointer) -> (scales: UInt64, mins: UInt64) {
    let a = p.loadUnaligned(as: UInt32.self).littleEndian
    let b = p.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
    let c = p.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
    let low6: UInt32 = 0x3F3F_3F3F, low4: UInt32 = 0x0F0F_0F0F, low2: UInt32 = 0x0303_0303
    let scales = UInt64(a & low6) | UInt64((c & low4) | (((a >> 6) & low2) << 4)) << 32
    let mins = UInt64(b & low6) | UInt64(((c >> 4) & low4) | (((b >> 6) & low2) << 4)) << 32
    return (scales, mins)
}

@inline(__always) func byte(_ packed: UInt64, _ j: Int) -> UInt8 { UInt8(truncatingIfNeeded: packed >> UInt64(8 * j)) }

/// Q4_K: 256 weights in 144 bytes: f16 d, f16 dmin, 12 bytes of packed 6-bit scales and mins
/// (`kScalesAndMins`), 128 bytes qs. Chunk c (0..<4) of 64 weights takes qs[32c ..< 32c + 32]: low nibbles
/// are sub-block 2c, high nibbles sub-block 2c + 1. x = (d · scale) · q − (dmin · min).
enum BlockQ4_K {
    static let byteCount = 2 + 2 + 12 + 128

    @inline(__always) static func dequantize(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(b, 0), dmin = loadHalf(b, 2), (scales, mins) = kScalesAndMins(b + 4)
        for c in 0..<4 {
            let s1 = byte(scales, 2 * c), m1 = byte(mins, 2 * c), s2 = byte(scales, 2 * c + 1), m2 = byte(mins, 2 * c + 1)
            let d1 = SIMD8<Float>(repeating: d * Float(s1)), dm1 = SIMD8<Float>(repeating: dmin * Float(m1))
            let d2 = SIMD8<Float>(repeating: d * Float(s2)), dm2 = SIMD8<Float>(repeating: dmin * Float(m2))
            for part in 0..<4 {
                let v = widened(b.loadUnaligned(fromByteOffset: 16 + 32 * c + 8 * part, as: SIMD8<UInt8>.self))
                store(d1 * toFloat(v & 0x0F) - dm1, y, 64 * c + 8 * part)
                store(d2 * toFloat(v &>> 4) - dm2, y, 64 * c + 32 + 8 * part)
            }
        }
    }
}

/// Q5_K: 256 weights in 176 bytes: f16 d, f16 dmin, 12 bytes scales/mins, 32 bytes qh, 128 bytes qs.
/// As Q4_K, plus a fifth bit: weight 32k + l takes bit k of qh[l].
enum BlockQ5_K {
    static let byteCount = 2 + 2 + 12 + 32 + 128

    @inline(__always) static func dequantize(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(b, 0), dmin = loadHalf(b, 2), (scales, mins) = kScalesAndMins(b + 4)
        for c in 0..<4 {
            let s1 = byte(scales, 2 * c), m1 = byte(mins, 2 * c), s2 = byte(scales, 2 * c + 1), m2 = byte(mins, 2 * c + 1)
            let d1 = SIMD8<Float>(repeating: d * Float(s1)), dm1 = SIMD8<Float>(repeating: dmin * Float(m1))
            let d2 = SIMD8<Float>(repeating: d * Float(s2)), dm2 = SIMD8<Float>(repeating: dmin * Float(m2))
            for part in 0..<4 {
                let v = widened(b.loadUnaligned(fromByteOffset: 48 + 32 * c + 8 * part, as: SIMD8<UInt8>.self))
                let h = widened(b.loadUnaligned(fromByteOffset: 16 + 8 * part, as: SIMD8<UInt8>.self))
                let lo = (v & 0x0F) | (((h &>> UInt16(2 * c)) & 1) &<< 4)
                let hi = (v &>> 4) | (((h &>> UInt16(2 * c + 1)) & 1) &<< 4)
                store(d1 * toFloat(lo) - dm1, y, 64 * c + 8 * part)
                store(d2 * toFloat(hi) - dm2, y, 64 * c + 32 + 8 * part)
            }
        }
    }
}

/// Q6_K: 256 weights in 210 bytes: 128 bytes ql (low 4 bits), 64 bytes qh (high 2 bits), 16 signed
/// byte scales, f16 d last. Half h (0..<2) of 128 weights uses ql[64h ..< 64h + 64] and
/// qh[32h ..< 32h + 32]: weight 128h + 32k + l (k 0..<4, l 0..<32) has low bits from ql[64h + l + 32(k & 1)]
/// (low nibble for k < 2, high nibble otherwise) and high bits 2k, 2k + 1 of qh[32h + l], and scale
/// scales[8h + 2k + l / 16]. x = (d · scale) · (q − 32).
enum BlockQ6_K {
    static let byteCount = 128 + 64 + 16 + 2

    @inline(__always) static func dequantize(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = loadHalf(b, 208)
        for h in 0..<2 {
            for k in 0..<4 {
                for part in 0..<4 {
                    let l0 = 8 * part
                    let ql = widened(b.loadUnaligned(fromByteOffset: 64 * h + 32 * (k & 1) + l0, as: SIMD8<UInt8>.self))
                    let qh = widened(b.loadUnaligned(fromByteOffset: 128 + 32 * h + l0, as: SIMD8<UInt8>.self))
                    let low = k < 2 ? ql & 0x0F : ql &>> 4
                    let q = low | (((qh &>> UInt16(2 * k)) & 3) &<< 4)
                    let scale = b.load(fromByteOffset: 192 + 8 * h + 2 * k + l0 / 16, as: Int8.self)
                    let ds = SIMD8<Float>(repeating: d * Float(scale))
                    store(ds * (toFloat(q) - 32), y, 128 * h + 32 * k + l0)
                }
            }
        }
    }
}
