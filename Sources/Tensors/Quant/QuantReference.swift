// Scalar twins of the quantized kernels, written element by element from the block layouts in
// ggml-common.h with no SIMD and no shared helpers, so a layout slip in the fast code shows up as a
// mismatch rather than being repeated here.

extension Reference {
    /// Decodes `bytes` (whole blocks of `type`) one weight at a time. Uses the same float operations as
    /// gguf-py, so it is bitwise equal to `gguf.quants.dequantize` too.
    public static func dequantize(_ type: GGMLType, _ bytes: [UInt8]) -> [Float] {
        let blocks = bytes.count / type.blockBytes
        var out = [Float](repeating: 0, count: blocks * type.blockSize)
        func u8(_ i: Int) -> UInt8 { bytes[i] }
        func i8(_ i: Int) -> Int { Int(Int8(bitPattern: bytes[i])) }
        func f16(_ i: Int) -> Float { Float(Float16(bitPattern: UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8)) }
        func u32(_ i: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[i + $1]) << (8 * $1) } }
        /// 6-bit scale and min j of a Q4_K/Q5_K block whose packed scales start at byte s.
        func scaleMin(_ s: Int, _ j: Int) -> (Float, Float) {
            if j < 4 { return (Float(u8(s + j) & 63), Float(u8(s + j + 4) & 63)) }
            return (Float((u8(s + j + 4) & 0xF) | ((u8(s + j - 4) >> 6) << 4)),
                    Float((u8(s + j + 4) >> 4) | ((u8(s + j) >> 6) << 4)))
        }
        for i in 0..<blocks {
            let o = i * type.blockBytes, y = i * type.blockSize
            switch type {
            case .f32: out[y] = Float(bitPattern: u32(o))
            case .f16: out[y] = f16(o)
            case .bf16: out[y] = Float(bitPattern: UInt32(u8(o)) << 16 | UInt32(u8(o + 1)) << 24)
            case .q4_0, .q4_1, .q5_0, .q5_1:
                let hasMin = type == .q4_1 || type == .q5_1, hasHigh = type == .q5_0 || type == .q5_1
                let qh = hasHigh ? u32(o + (hasMin ? 4 : 2)) : 0
                let qs = o + 2 + (hasMin ? 2 : 0) + (hasHigh ? 4 : 0)
                for j in 0..<32 {
                    var q = Int(j < 16 ? u8(qs + j) & 0xF : u8(qs + j - 16) >> 4)
                    if hasHigh { q |= Int((qh >> UInt32(j)) & 1) << 4 }
                    let offset = hasHigh ? 16 : 8
                    out[y + j] = hasMin ? f16(o) * Float(q) + f16(o + 2) : f16(o) * Float(q - offset)
                }
            case .q8_0:
                for j in 0..<32 { out[y + j] = Float(i8(o + 2 + j)) * f16(o) }
            case .q4_K, .q5_K:
                let isQ5 = type == .q5_K, qs = o + (isQ5 ? 48 : 16)
                for j in 0..<256 {
                    let sub = j / 32, l = j % 32, chunk = sub / 2
                    let byte = u8(qs + 32 * chunk + l)
                    var q = Int(sub % 2 == 0 ? byte & 0xF : byte >> 4)
                    if isQ5 { q |= Int((u8(o + 16 + l) >> UInt8(sub)) & 1) << 4 }
                    let (sc, m) = scaleMin(o + 4, sub)
                    out[y + j] = (f16(o) * sc) * Float(q) - f16(o + 2) * m
                }
            case .q6_K:
                for j in 0..<256 {
                    let half = j / 128, k = (j % 128) / 32, l = j % 32
                    let lowByte = u8(o + 64 * half + l + (k % 2 == 1 ? 32 : 0))
                    let low = Int(k < 2 ? lowByte & 0xF : lowByte >> 4)
                    let high = Int((u8(o + 128 + 32 * half + l) >> UInt8(2 * k)) & 3)
                    let scale = Float(i8(o + 192 + j / 16))
                    out[y + j] = (f16(o + 208) * scale) * Float((low | high << 4) - 32)
                }
            case .q8_1, .q2_K, .q3_K, .q8_K:
                preconditionFailure("no reference decoder for \(type)")
            }
        }
        return out
    }

    /// The f32 path's twin: y[b, r] = Σ_k x[b, k]·W[r, k] with W decoded by `dequantize`, in Double.
    public static func quantizedMatmul(_ type: GGMLType, _ bytes: [UInt8], rows: Int, cols: Int,
                                       _ x: [Float], batch: Int) -> [Float] {
        matmul(dequantize(type, bytes), rows: rows, cols: cols, x, batch: batch)
    }

    /// llama.cpp's arithmetic, the 8-bit path's twin: each x row quantized to Q8_1 (for the 32-blocks)
    /// or Q8_K (for the K-quants) by the public quantizers, then per block an integer Σ q_w·q_x scaled
    /// by the two block scales, as ggml's generic ggml_vec_dot_<type>_q8_* compute it.
    public static func quantizedDotMatmul(_ type: GGMLType, _ bytes: [UInt8], rows: Int, cols: Int,
                                          _ x: [Float], batch: Int) -> [Float] {
        let isK = type.blockSize == 256
        let actBlockBytes = isK ? 292 : 36
        var y = [Float](repeating: 0, count: batch * rows)
        let w = dequantizeIntegers(type, bytes)
        for b in 0..<batch {
            var act = [UInt8](repeating: 0, count: cols / (isK ? 256 : 32) * actBlockBytes)
            x.withUnsafeBufferPointer { xp in
                act.withUnsafeMutableBytes {
                    if isK { quantizeRowQ8_K(xp.baseAddress! + b * cols, $0.baseAddress!, count: cols) }
                    else { quantizeRowQ8_1(xp.baseAddress! + b * cols, $0.baseAddress!, count: cols) }
                }
            }
            func i8(_ i: Int) -> Int { Int(Int8(bitPattern: act[i])) }
            func f16(_ i: Int) -> Double { Double(Float(Float16(bitPattern: UInt16(act[i]) | UInt16(act[i + 1]) << 8))) }
            for r in 0..<rows {
                var sum = 0.0
                for blk in 0..<(cols / type.blockSize) {
                    let ab = blk * actBlockBytes, wb = (r * cols / type.blockSize + blk)
                    let (scales, mins) = (w.scales[wb], w.mins[wb])
                    if isK {
                        let d = Double(act.withUnsafeBytes { $0.load(fromByteOffset: ab, as: Float.self) })
                        for g in 0..<(256 / w.groupSize) {
                            var sumi = 0, sumx = 0
                            for j in (g * w.groupSize)..<((g + 1) * w.groupSize) {
                                sumi += w.q[r * cols + blk * 256 + j] * i8(ab + 4 + j)
                                sumx += i8(ab + 4 + j)
                            }
                            sum += d * (scales[g] * Double(sumi) - mins[g] * Double(sumx))
                        }
                    } else {
                        var sumi = 0
                        for j in 0..<32 { sumi += w.q[r * cols + blk * 32 + j] * i8(ab + 4 + j) }
                        sum += f16(ab) * scales[0] * Double(sumi) + mins[0] * f16(ab + 2)
                    }
                }
                y[b * rows + r] = Float(sum)
            }
        }
        return y
    }

    /// Weights as integers q with per-group scale and min: W = scale·q + min for Q4_1/Q5_1 (q − 8,
    /// q − 16 and no min for Q4_0/Q5_0), W = scale_j·q − min_j per 32 for Q4_K/Q5_K (d·scale, dmin·min),
    /// W = scale_g·(q − 32) per 16 for Q6_K.
    private static func dequantizeIntegers(_ type: GGMLType, _ bytes: [UInt8])
        -> (q: [Int], scales: [[Double]], mins: [[Double]], groupSize: Int) {
        let blocks = bytes.count / type.blockBytes
        var q = [Int](repeating: 0, count: blocks * type.blockSize)
        var scales: [[Double]] = [], mins: [[Double]] = []
        func f16(_ i: Int) -> Double { Double(Float(Float16(bitPattern: UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8))) }
        let groupSize = type == .q6_K ? 16 : 32
        for i in 0..<blocks {
            let o = i * type.blockBytes, y = i * type.blockSize
            switch type {
            case .q8_0:
                for j in 0..<32 { q[y + j] = Int(Int8(bitPattern: bytes[o + 2 + j])) }
                scales.append([f16(o)]); mins.append([0])
            case .q4_0, .q4_1, .q5_0, .q5_1:
                let hasMin = type == .q4_1 || type == .q5_1, hasHigh = type == .q5_0 || type == .q5_1
                let qhAt = o + (hasMin ? 4 : 2), qs = o + 2 + (hasMin ? 2 : 0) + (hasHigh ? 4 : 0)
                for j in 0..<32 {
                    var v = Int(j < 16 ? bytes[qs + j] & 0xF : bytes[qs + j - 16] >> 4)
                    if hasHigh { v |= Int((bytes[qhAt + j / 8] >> UInt8(j % 8)) & 1) << 4 }
                    q[y + j] = hasMin ? v : v - (hasHigh ? 16 : 8)
                }
                scales.append([f16(o)]); mins.append([hasMin ? f16(o + 2) : 0])
            case .q4_K, .q5_K:
                var sc: [Double] = [], mn: [Double] = []
                let d = f16(o), dmin = f16(o + 2)
                for j in 0..<8 {
                    let s = o + 4
                    let (a, b): (UInt8, UInt8) = j < 4
                        ? (bytes[s + j] & 63, bytes[s + j + 4] & 63)
                        : ((bytes[s + j + 4] & 0xF) | ((bytes[s + j - 4] >> 6) << 4), (bytes[s + j + 4] >> 4) | ((bytes[s + j] >> 6) << 4))
                    sc.append(d * Double(a)); mn.append(dmin * Double(b))
                }
                let qs = o + (type == .q5_K ? 48 : 16)
                for j in 0..<256 {
                    let sub = j / 32, l = j % 32, byte = bytes[qs + 32 * (sub / 2) + l]
                    var v = Int(sub % 2 == 0 ? byte & 0xF : byte >> 4)
                    if type == .q5_K { v |= Int((bytes[o + 16 + l] >> UInt8(sub)) & 1) << 4 }
                    q[y + j] = v
                }
                scales.append(sc); mins.append(mn)
            case .q6_K:
                let d = f16(o + 208)
                scales.append((0..<16).map { d * Double(Int8(bitPattern: bytes[o + 192 + $0])) })
                mins.append([Double](repeating: 0, count: 16))
                for j in 0..<256 {
                    let half = j / 128, k = (j % 128) / 32, l = j % 32
                    let lowByte = bytes[o + 64 * half + l + (k % 2 == 1 ? 32 : 0)]
                    let low = Int(k < 2 ? lowByte & 0xF : lowByte >> 4)
                    q[y + j] = (low | Int((bytes[o + 128 + 32 * half + l] >> UInt8(2 * k)) & 3) << 4) - 32
                }
            default:
                preconditionFailure("no 8-bit reference dot for \(type)")
            }
        }
        return (q, scales, mins, groupSize)
    }
}
