// 8-bit activation blocks, as llama.cpp quantizes the input vector inside its quantized dot products
// (ggml-quants.c quantize_row_q8_0_ref / q8_1_ref / q8_K_ref). Using the same integers makes Easel's
// products match llama.cpp's to float rounding instead of to the activation quantization error.

/// Q8_0 (34 bytes per 32 values: f16 d, 32 × Int8), ggml's reference rounding: d = amax / 127,
/// q = roundf(x · (1 / d)) with ties away from zero. gguf-py's Q8_0 quantizer is bit-exact with it.
/// (llama.cpp's AVX2 build rounds ties to even with 127 / amax instead; the two differ by one step on
/// rare ties only.)
public func quantizeRowQ8_0(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
    precondition(count % 32 == 0, "Q8_0 rows are whole blocks of 32, got \(count)")
    for i in 0..<(count / 32) {
        let d = quantizeBlock32(x + 32 * i, dst + 34 * i + 2)
        dst.storeBytes(of: floatToHalf(d), toByteOffset: 34 * i, as: UInt16.self)
    }
}

/// Q8_1 (36 bytes per 32 values: f16 d, f16 s = d · Σq, 32 × Int8): Q8_0's integers plus their sum,
/// which carries the Q4_1/Q5_1 minimum term of the dot product.
public func quantizeRowQ8_1(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
    precondition(count % 32 == 0, "Q8_1 rows are whole blocks of 32, got \(count)")
    for i in 0..<(count / 32) {
        let block = dst + 36 * i
        let d = quantizeBlock32(x + 32 * i, block + 4)
        var sum: Int32 = 0
        for j in 0..<32 { sum += Int32(block.load(fromByteOffset: 4 + j, as: Int8.self)) }
        block.storeBytes(of: floatToHalf(d), toByteOffset: 0, as: UInt16.self)
        block.storeBytes(of: floatToHalf(Float(sum) * d), toByteOffset: 2, as: UInt16.self)
    }
}

/// Q8_K (292 bytes per 256 values: f32 d, 256 × Int8, 16 × Int16 sums of consecutive 16s). The value
/// of largest magnitude maps to −127; rounding is to nearest, ties to even (ggml's nearest_int).
public func quantizeRowQ8_K(_ x: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
    precondition(count % 256 == 0, "Q8_K rows are whole blocks of 256, got \(count)")
    for i in 0..<(count / 256) {
        let block = dst + 292 * i, v = x + 256 * i
        var amax: Float = 0, signedMax: Float = 0
        for j in 0..<256 where abs(v[j]) > amax { amax = abs(v[j]); signedMax = v[j] }
        guard amax != 0 else {
            block.initializeMemory(as: UInt8.self, repeating: 0, count: 292)
            continue
        }
        let iscale = -127 / signedMax
        for j in 0..<256 {
            let q = saturatingInt8((iscale * v[j]).rounded(.toNearestOrEven))
            block.storeBytes(of: q, toByteOffset: 4 + j, as: Int8.self)
        }
        for g in 0..<16 {
            var sum: Int16 = 0
            for j in 0..<16 { sum += Int16(block.load(fromByteOffset: 4 + 16 * g + j, as: Int8.self)) }
            block.storeBytes(of: sum, toByteOffset: 260 + 2 * g, as: Int16.self)
        }
        block.storeBytes(of: 1 / iscale, toByteOffset: 0, as: Float.self)
    }
}

/// Quantizes 32 values to Int8 at `q`, returns d (before f16 rounding, as ggml multiplies by 1/d).
@inline(__always) private func quantizeBlock32(_ x: UnsafePointer<Float>, _ q: UnsafeMutableRawPointer) -> Float {
    var amax: Float = 0
    for j in 0..<32 { amax = max(amax, abs(x[j])) }
    let d = amax / 127
    let id: Float = d != 0 ? 1 / d : 0
    for j in 0..<32 {
        q.storeBytes(of: saturatingInt8((x[j] * id).rounded(.toNearestOrAwayFromZero)), toByteOffset: j, as: Int8.self)
    }
    return d
}

/// Which 8-bit activation format a weight type's dot kernel takes (ggml's `vec_dot_type`).
enum ActivationFormat {
    /// Blocks of 32 with d and s = d·Σq (both f16-rounded): Q8_0 and Q8_1 share the integers.
    case q8
    /// The same integers, laid out for 4-bit weights (`nibbleOrder`).
    case q8Nibbles
    /// The same integers, laid out and scaled for the 8-row interleaved Q4_0 kernel (`interleavedOrder`).
    case q8Interleaved
    /// Blocks of 256 with an f32 d and Σq for each 16.
    case q8K
    /// The same, laid out and scaled for the 8-row interleaved Q4_K kernel (`interleavedOrder`).
    case q8KInterleaved

    init?(weights type: GGMLType) {
        switch type {
        case .q4_0, .q4_1: self = .q8Nibbles
        case .q5_0, .q5_1, .q8_0: self = .q8
        case .q4_K, .q5_K, .q6_K: self = .q8K
        default: return nil
        }
    }

    var blockSize: Int { self == .q8K || self == .q8KInterleaved ? 256 : 32 }
}

/// Where activation j of a 32-block goes in the `.q8Nibbles` layout, and its factor. The 4-bit
/// kernels load a block's 16 bytes into both halves of a 16-lane vector and mask each half
/// differently (nibbleBlockSums): lane i < 8 then holds weight 2i (even bytes' low nibbles) or 2i + 1,
/// lane 8 + i weight 16 + 2i or 17 + 2i times 16 (the high nibble left in place). The activations
/// facing the unshifted low nibbles are multiplied by 16 so that every product is 16·q·a, and the
/// kernels divide the sum by 16 (exact). 16·127 still fits Int16.
@inline(__always) func nibbleOrder(_ j: Int) -> (lane: Int, factor: Int16) {
    let odd = j & 1, high = j >= 16 ? 1 : 0
    return (16 * odd + 8 * high + (j % 16) / 2, high == 1 ? 1 : 16)
}

/// Rows of activations quantized once per matmul and read by every weight row's dot product.
/// The integers are stored widened to Int16, in their natural order (`.q8Nibbles`, `.q8Interleaved`: in
/// `nibbleOrder`, `interleavedOrder`).
/// The kernels widen weights to 16-bit lanes too and multiply pairs of lanes into Int32 (pmaddwd), so an activation lane feeds the
/// multiply straight from memory, with no shuffles and no per-row widening.
struct QuantizedActivations {
    let format: ActivationFormat
    let rows: Int, cols: Int
    /// [rows, cols] integers, natural order or `nibbleOrder` / `interleavedOrder` within each 32.
    let q: UnsafeMutablePointer<Int16>
    /// [rows, cols / blockSize]: d as the weights' dot products use it (f16-rounded for .q8).
    let scale: UnsafeMutablePointer<Float>
    /// [rows, cols / 32] for .q8: Q8_1's s = d · Σq, f16-rounded as ggml stores it.
    let sum: UnsafeMutablePointer<Float>
    /// .q8: [rows, cols / 32] d · Σq unrounded, for the Q4_0/Q5_0 offsets (−8, −16).
    let scaledSum: UnsafeMutablePointer<Float>
    /// .q8K: [rows, cols / 16] Σq of each consecutive 16 (ggml's bsums; |Σ| ≤ 16·127 fits Int16, so
    /// the kernels multiply them with pmaddwd as well).
    let groupSums: UnsafeMutablePointer<Int16>

    init(format: ActivationFormat, x: UnsafePointer<Float>, rows: Int, cols: Int) {
        precondition(cols % format.blockSize == 0, "activation row of \(cols) is not whole \(format) blocks")
        self.format = format
        self.rows = rows
        self.cols = cols
        let blocks = rows * cols / format.blockSize
        q = .allocate(capacity: rows * cols)
        scale = .allocate(capacity: blocks)
        sum = .allocate(capacity: format.blockSize == 32 ? blocks : 0)
        scaledSum = .allocate(capacity: format.blockSize == 32 ? blocks : 0)
        groupSums = .allocate(capacity: format.blockSize == 256 ? blocks * 16 : 0)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: 292, alignment: 16)
        defer { scratch.deallocate() }
        for i in 0..<blocks {
            let src = x + i * format.blockSize, dq = q + i * format.blockSize
            switch format {
            case .q8, .q8Nibbles, .q8Interleaved:
                quantizeRowQ8_1(src, scratch, count: 32)
                scale[i] = halfBitsToFloat(scratch.load(as: UInt16.self))
                sum[i] = halfBitsToFloat(scratch.load(fromByteOffset: 2, as: UInt16.self))
                scaledSum[i] = scale[i] * Float(widen(scratch + 4, dq, count: 32))
                if format != .q8 {
                    for j in 0..<32 {
                        let (lane, factor) = format == .q8Nibbles ? nibbleOrder(j) : interleavedOrder(j, half: 16)
                        dq[lane] = factor &* Int16(scratch.load(fromByteOffset: 4 + j, as: Int8.self))
                    }
                }
            case .q8K, .q8KInterleaved:
                quantizeRowQ8_K(src, scratch, count: 256)
                scale[i] = scratch.load(as: Float.self)
                for g in 0..<16 {
                    groupSums[16 * i + g] = scratch.load(fromByteOffset: 260 + 2 * g, as: Int16.self)
                }
                _ = widen(scratch + 4, dq, count: 256)
                if format == .q8KInterleaved {
                    for j in 0..<256 {
                        let (lane, factor) = interleavedOrder(j, half: 32)
                        dq[lane] = factor &* Int16(scratch.load(fromByteOffset: 4 + j, as: Int8.self))
                    }
                }
            }
        }
    }

    func deallocate() {
        q.deallocate(); scale.deallocate(); sum.deallocate(); scaledSum.deallocate(); groupSums.deallocate()
    }

    /// Row `r`'s pointers, as the dot kernels take them.
    func row(_ r: Int) -> ActivationRow {
        let blocks = cols / format.blockSize
        let small = format.blockSize == 32 ? r * blocks : 0, groups = format.blockSize == 256 ? r * blocks * 16 : 0
        return ActivationRow(q: q + r * cols, scale: scale + r * blocks, sum: sum + small,
                             scaledSum: scaledSum + small, groupSums: groupSums + groups)
    }
}

struct ActivationRow {
    let q: UnsafePointer<Int16>
    let scale: UnsafePointer<Float>
    let sum: UnsafePointer<Float>
    let scaledSum: UnsafePointer<Float>
    let groupSums: UnsafePointer<Int16>

    init(q: UnsafeMutablePointer<Int16>, scale: UnsafeMutablePointer<Float>, sum: UnsafeMutablePointer<Float>,
         scaledSum: UnsafeMutablePointer<Float>, groupSums: UnsafeMutablePointer<Int16>) {
        self.q = UnsafePointer(q); self.scale = UnsafePointer(scale); self.sum = UnsafePointer(sum)
        self.scaledSum = UnsafePointer(scaledSum); self.groupSums = UnsafePointer(groupSums)
    }
}

/// A rounded value to Int8 without trapping: activations that overflowed to inf or NaN upstream give
/// a wrong product (as in llama.cpp), not a crash.
@inline(__always) private func saturatingInt8(_ r: Float) -> Int8 {
    r.isNaN ? 0 : Int8(Swift.max(-127, Swift.min(127, r)))
}

/// Widens `count` Int8 to Int16 in order; returns their sum.
@inline(__always) private func widen(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Int16>, count: Int) -> Int32 {
    var total: Int32 = 0
    for i in 0..<count {
        let v = src.load(fromByteOffset: i, as: Int8.self)
        dst[i] = Int16(v)
        total += Int32(v)
    }
    return total
}
