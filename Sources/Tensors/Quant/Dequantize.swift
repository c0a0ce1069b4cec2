/// Widens one row of `count` stored weights to Float32. Quantized types are decoded block by block
/// straight from the (memory-mapped) bytes, bitwise as gguf-py's `quants.dequantize` does.
/// `count` must be a whole number of blocks (WeightMatrix guarantees it for its rows).
public func dequantizeRow(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    precondition(count % type.blockSize == 0, "\(count) \(type) values are not whole blocks")
    let blocks = count / type.blockSize, step = type.blockBytes, n = type.blockSize
    switch type {
    case .f32: dst.update(from: src.assumingMemoryBound(to: Float.self), count: count)
    case .f16: widenHalves(src, dst, count: count)
    case .bf16: convertBFloat16ToFloat(src, dst, count: count)
    case .q4_0: for i in 0..<blocks { BlockQ4_0.dequantize(src + i * step, dst + i * n) }
    case .q4_1: for i in 0..<blocks { BlockQ4_1.dequantize(src + i * step, dst + i * n) }
    case .q5_0: for i in 0..<blocks { BlockQ5_0.dequantize(src + i * step, dst + i * n) }
    case .q5_1: for i in 0..<blocks { BlockQ5_1.dequantize(src + i * step, dst + i * n) }
    case .q8_0: for i in 0..<blocks { BlockQ8_0.dequantize(src + i * step, dst + i * n) }
    case .q4_K: for i in 0..<blocks { BlockQ4_K.dequantize(src + i * step, dst + i * n) }
    case .q5_K: for i in 0..<blocks { BlockQ5_K.dequantize(src + i * step, dst + i * n) }
    case .q6_K: for i in 0..<blocks { BlockQ6_K.dequantize(src + i * step, dst + i * n) }
    case .q8_1, .q2_K, .q3_K, .q8_K:
        preconditionFailure("\(type) has no dequantization kernel; loaders reject it (GGMLType.isComputable)")
    }
}

/// f16 to f32 eight at a time with the exact integer conversion, so builds without F16C do not make
/// a library call per value.
func widenHalves(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 8 <= count {
        store(halfBitsToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self)), dst, i)
        i += 8
    }
    while i < count {
        dst[i] = halfBitsToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
        i += 1
    }
}

extension GGMLType {
    /// Types the kernels can multiply. Loaders check this so an unsupported file fails at load
    /// time with the tensor's name, never inside a kernel. Q8_1 and Q8_K exist only as activation
    /// formats inside llama.cpp's dot products; Q2_K and Q3_K are not implemented.
    public var isComputable: Bool {
        switch self {
        case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K: true
        case .q8_1, .q2_K, .q3_K, .q8_K: false
        }
    }
}
