/// Σ a[i]·b[i] over n floats, 16 lanes at a time (two AVX2 registers or one AVX-512).
@inline(__always) public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var i = 0
    while i + 32 <= n {
        acc0 += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
        acc1 += UnsafeRawPointer(a + i + 16).loadUnaligned(as: SIMD16<Float>.self) * UnsafeRawPointer(b + i + 16).loadUnaligned(as: SIMD16<Float>.self)
        i += 32
    }
    while i + 16 <= n {
        acc0 += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
        i += 16
    }
    var s = (acc0 + acc1).sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// y[i] += alpha · x[i] over n floats.
@inline(__always) public func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let va = SIMD16<Float>(repeating: alpha)
    var i = 0
    while i + 16 <= n {
        let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
        let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: yv + va * xv, as: SIMD16<Float>.self)
        i += 16
    }
    while i < n { y[i] += alpha * x[i]; i += 1 }
}

/// Σ a[i]·b[i] with b stored as IEEE half: the attention scores over an f16 KV cache.
@inline(__always) public func dot(_ a: UnsafePointer<Float>, half b: UnsafePointer<Float16>, _ n: Int) -> Float {
    // Widened with integer arithmetic (halfBitsToFloat): `Float(Float16)` is a library call per
    // value on x86-64 builds that do not target F16C.
    var acc = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        let bv = halfBitsToFloat(UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<UInt16>.self))
        acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * bv
        i += 8
    }
    var s = acc.sum()
    while i < n { s += a[i] * halfBitsToFloat(b[i].bitPattern); i += 1 }
    return s
}

/// y[i] += alpha · x[i] with x stored as IEEE half.
@inline(__always) public func axpy(_ alpha: Float, half x: UnsafePointer<Float16>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let va = SIMD8<Float>(repeating: alpha)
    var i = 0
    while i + 8 <= n {
        let xv = halfBitsToFloat(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<UInt16>.self))
        let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: yv + va * xv, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { y[i] += alpha * halfBitsToFloat(x[i].bitPattern); i += 1 }
}

/// Narrows n floats to halves (round to nearest even, as F16C's vcvtps2ph).
public func convertFloatToHalf(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float16>, count n: Int) {
    var i = 0
    while i + 16 <= n {
        let v = SIMD16<Float16>(UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<Float>.self))
        UnsafeMutableRawPointer(dst + i).storeBytes(of: v, as: SIMD16<Float16>.self)
        i += 16
    }
    while i < n { dst[i] = Float16(src[i]); i += 1 }
}
