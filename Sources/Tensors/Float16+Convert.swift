// Half-precision conversions. Float16 is a native type on x86_64 and arm64 Linux; bf16 is the top
// half of an IEEE float32, so widening is a shift and narrowing rounds to nearest even (as torch does).

@inline(__always) public func halfToFloat(_ bits: UInt16) -> Float {
    halfBitsToFloat(bits)
}

@inline(__always) public func floatToHalf(_ value: Float) -> UInt16 {
    Float16(value).bitPattern
}

@inline(__always) public func bfloat16ToFloat(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}

@inline(__always) public func floatToBFloat16(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(bits >> 16) | 0x40 }
    let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
    return UInt16((bits &+ rounding) >> 16)
}

/// Widens `count` halves to floats, 8 at a time with the exact integer method of `halfBitsToFloat`
/// (portable: `Float(Float16)` is a library call per value unless the build targets F16C).
public func convertHalfToFloat(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 8 <= count {
        let f = halfBitsToFloat(src.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<UInt16>.self))
        UnsafeMutableRawPointer(dst + i).storeBytes(of: f, as: SIMD8<Float>.self)
        i += 8
    }
    while i < count {
        dst[i] = halfBitsToFloat(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
        i += 1
    }
}

public func convertBFloat16ToFloat(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 8 <= count {
        let h = src.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<UInt16>.self)
        let f = SIMD8<UInt32>(truncatingIfNeeded: h) &<< 16
        UnsafeMutableRawPointer(dst + i).storeBytes(of: f, as: SIMD8<UInt32>.self)
        i += 8
    }
    while i < count {
        dst[i] = bfloat16ToFloat(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
        i += 1
    }
}
