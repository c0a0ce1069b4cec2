// Half-precision conversions. Float16 is a native type on x86_64 and arm64 Linux; bf16 is the top
// half of an IEEE float32, so widening is a shift and narrowing rounds to nearest even (as torch does).

@inline(__always) public func halfToFloat(_ bits: UInt16) -> Float {
    Float(Float16(bitPattern: bits))
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

/// Widens `count` halves to floats, 8 at a time through SIMD so the compiler emits vcvtph2ps.
public func convertHalfToFloat(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 8 <= count {
        let h = src.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<Float16>.self)
        let f = SIMD8<Float>(h)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: f, as: SIMD8<Float>.self)
        i += 8
    }
    while i < count {
        dst[i] = Float(src.loadUnaligned(fromByteOffset: i * 2, as: Float16.self))
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
