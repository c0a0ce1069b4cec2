/// Widens one row of `count` stored weights to Float32. Quantized types are decoded block by block
/// straight from the (memory-mapped) bytes, as gguf-py's `quants.dequantize` does.
public func dequantizeRow(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    switch type {
    case .f32: dst.update(from: src.assumingMemoryBound(to: Float.self), count: count)
    case .f16: convertHalfToFloat(src, dst, count: count)
    case .bf16: convertBFloat16ToFloat(src, dst, count: count)
    default: preconditionFailure("\(type) has no dequantization kernel; loaders reject it (GGMLType.isComputable)")
    }
}

extension GGMLType {
    /// Types the kernels can multiply. Loaders check this so an unsupported file fails at load
    /// time with the tensor's name, never inside a kernel.
    public var isComputable: Bool {
        switch self {
        case .f32, .f16, .bf16: true
        default: false
        }
    }
}
