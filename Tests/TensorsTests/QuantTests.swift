import Foundation
import XCTest
@testable import Tensors

extension Tolerance {
    /// The fast 8-bit dot kernels vs Reference.quantizedDotMatmul, relative to Σ_k |W[r,k]·x[k]|:
    /// both multiply the same integers exactly, so only the float summation order differs.
    static let q8DotRounding: Float = 2e-6
    /// An 8-bit activation is within half a step (amax_block / 254) of its float, so an 8-bit dot
    /// product may differ from the f32 one by at most Σ_k |W[r,k]|·amax(block of k)/254 (plus
    /// rounding): the bound checked against the f32 twin, scaled by this factor.
    static let q8ActivationErrorBound: Float = 1.0 + 1e-3
    /// The panel path (dequantize then SGEMM, f32 activations) vs the Double-accumulating f32 twin,
    /// relative to Σ_k |W[r,k]·x[k]|.
    static let panelRounding: Float = 1e-5
    /// For x uniform in [−1, 1): each 8-bit activation is off by at most amax/254 ≈ 0.004 while E|x| = 0.5,
    /// so the 8-bit path stays within ~0.8% of Σ_k |W[r,k]·x[k]| of the f32 result; 2% leaves margin,
    /// and a wrong layout or offset errs by the order of Σ|W·x| itself.
    static let q8ActivationRelative: Float = 0.02
    /// Easel's 8-bit row dots vs llama.cpp's own ggml_vec_dot_* (AVX2 build) on the same blocks and x,
    /// relative to Σ_k |W[r,k]·x[k]|. Both quantize x to the same integers (ggml's AVX2 quantizer rounds
    /// ties to even, the reference away from zero; random floats never tie) and sum integers exactly:
    /// only the float summation order differs. Measured max 3.3e-8 (f32 activations: 2.8e-4 to 1.1e-3).
    static let llamaCppDot: Float = 1e-6
}

/// Dequantization against gguf-py's, the 8-bit activation quantizers against ggml's, and the
/// quantized matmul paths against their scalar twins (Reference.quantizedMatmul, quantizedDotMatmul).
extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

final class QuantTests: XCTestCase {
    struct Manifest: Decodable {
        struct File: Decodable {
            let type: String
            let purpose: String?
            let blocks: Int
            let elements: Int
            let block_file: String
            let float_file: String?
            let input_file: String?
        }
        let gguf: String
        let quant_sizes: [String: [Int]]
        let files: [File]
    }

    static let fixtureDirectory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/quant")

    func manifest() throws -> Manifest {
        let data = try Data(contentsOf: Self.fixtureDirectory.appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode(Manifest.self, from: data)
    }

    func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Self.fixtureDirectory.appendingPathComponent(name)))
    }

    func floats(_ name: String) throws -> [Float] {
        let b = try bytes(name)
        return stride(from: 0, to: b.count, by: 4).map {
            Float(bitPattern: UInt32(b[$0]) | UInt32(b[$0 + 1]) << 8 | UInt32(b[$0 + 2]) << 16 | UInt32(b[$0 + 3]) << 24)
        }
    }

    func ggmlType(_ name: String) -> GGMLType? { GGMLType.allCases.first { $0.description == name } }

    /// Bitwise comparison that prints the first differing values, as assertClose does.
    func assertBitwiseEqual(_ actual: [Float], _ expected: [Float], label: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(label): count", file: file, line: line)
        var bad: [String] = [], maxDiff: Float = 0
        for i in 0..<min(actual.count, expected.count) where actual[i].bitPattern != expected[i].bitPattern {
            if bad.count < 5 { bad.append("[\(i)] \(actual[i]) vs \(expected[i]) NOT OK") }
            maxDiff = max(maxDiff, abs(actual[i] - expected[i]))
        }
        if !bad.isEmpty {
            XCTFail("\(label): not bitwise equal, maxdiff \(maxDiff); first differing: \(bad.joined(separator: "; "))",
                    file: file, line: line)
        }
    }

    // MARK: Block layouts and dequantization

    func testDequantizeRowEqualsGgufPyBitwiseForEveryType() throws {
        let m = try manifest()
        var seen: Set<String> = []
        for f in m.files where f.purpose == nil {
            let type = try XCTUnwrap(ggmlType(f.type), f.type)
            let raw = try bytes(f.block_file), expected = try floats(try XCTUnwrap(f.float_file))
            XCTAssertEqual(raw.count, type.byteCount(elements: f.elements), "\(f.type) fixture size")
            var got = [Float](repeating: .nan, count: f.elements)
            raw.withUnsafeBytes { src in
                got.withUnsafeMutableBufferPointer { dequantizeRow(type, src.baseAddress!, $0.baseAddress!, count: f.elements) }
            }
            assertBitwiseEqual(got, expected, label: "dequantizeRow \(f.type)")
            assertBitwiseEqual(Reference.dequantize(type, raw), expected, label: "Reference.dequantize \(f.type)")
            seen.insert(f.type)
        }
        XCTAssertEqual(seen, ["F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"])
    }

    func testBlockSizesEqualGgufQuantSizes() throws {
        let sizes = try manifest().quant_sizes
        for (name, pair) in sizes {
            let type = try XCTUnwrap(ggmlType(name), name)
            XCTAssertEqual(type.blockSize, pair[0], "\(name) block size")
            // gguf-py 0.19.0 still lists Q8_1 as 40 bytes (f32 d and s); ggml-common.h's block_q8_1
            // has f16 d and s, 36 bytes, and static_asserts it. Q8_1 never appears in a file.
            XCTAssertEqual(type.blockBytes, name == "Q8_1" ? 36 : pair[1], "\(name) block bytes")
        }
        XCTAssertEqual(Set(sizes.keys).count, 15)
    }

    func testHalfConversionIsExactForEveryHalf() {
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits)), got = halfBitsToFloat(bits)
            if expected.isNaN {
                XCTAssertTrue(got.isNaN, "\(bits)")
            } else if got.bitPattern != expected.bitPattern {
                XCTFail("half \(bits): \(got) vs \(expected)"); return
            }
        }
        // The 8-lane form (the dot kernels' scales, 32-bit lanes for Q4_1/Q5_1's d-and-m loads), every half.
        for base in stride(from: 0, through: Int(UInt16.max), by: 8) {
            var lanes = SIMD8<UInt16>()
            for i in 0..<8 { lanes[i] = UInt16(base + i) }
            let wide = halfBitsToFloat(lanes)
            for i in 0..<8 {
                let expected = Float(Float16(bitPattern: lanes[i]))
                if expected.isNaN ? !wide[i].isNaN : wide[i].bitPattern != expected.bitPattern {
                    XCTFail("8-lane half \(lanes[i]): \(wide[i]) vs \(expected)"); return
                }
            }
        }
    }

    func testComputableTypesAreExactlyThoseWithKernels() {
        let computable = Set(GGMLType.allCases.filter(\.isComputable))
        XCTAssertEqual(computable, [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K])
    }

    // MARK: Activation quantizers

    func testQuantizeRowQ8_0EqualsGgufPyBitwise() throws {
        let f = try XCTUnwrap(try manifest().files.first { $0.purpose == "quantize" })
        let x = try floats(try XCTUnwrap(f.input_file)), expected = try bytes(f.block_file)
        var got = [UInt8](repeating: 0, count: expected.count)
        x.withUnsafeBufferPointer { xp in
            got.withUnsafeMutableBytes { quantizeRowQ8_0(xp.baseAddress!, $0.baseAddress!, count: x.count) }
        }
        XCTAssertEqual(got, expected)
        XCTAssertEqual(Array(got[2..<6]).map { Int8(bitPattern: $0) }, [127, 3, -4, 1], "roundf ties go away from zero")
    }

    func testQ8_1AndQ8_KQuantizersFollowGgml() {
        var x = randoms(512, seed: 11)
        x[300] = -4   // the K block's largest magnitude is negative: it must map to −127 · d with d < 0
        var q80 = [UInt8](repeating: 0, count: 16 * 34), q81 = [UInt8](repeating: 0, count: 16 * 36)
        var q8k = [UInt8](repeating: 0, count: 2 * 292)
        x.withUnsafeBufferPointer { xp in
            q80.withUnsafeMutableBytes { quantizeRowQ8_0(xp.baseAddress!, $0.baseAddress!, count: 512) }
            q81.withUnsafeMutableBytes { quantizeRowQ8_1(xp.baseAddress!, $0.baseAddress!, count: 512) }
            q8k.withUnsafeMutableBytes { quantizeRowQ8_K(xp.baseAddress!, $0.baseAddress!, count: 512) }
        }
        for blk in 0..<16 {
            XCTAssertEqual(Array(q80[(34 * blk)..<(34 * blk + 2)]), Array(q81[(36 * blk)..<(36 * blk + 2)]), "d")
            XCTAssertEqual(Array(q80[(34 * blk + 2)..<(34 * blk + 34)]), Array(q81[(36 * blk + 4)..<(36 * blk + 36)]), "qs")
            let d = x[(32 * blk)..<(32 * blk + 32)].map(abs).max()! / 127   // ggml scales s by d before f16 rounding
            let sum = (0..<32).reduce(0) { $0 + Int(Int8(bitPattern: q81[36 * blk + 4 + $1])) }
            XCTAssertEqual(UInt16(q81[36 * blk + 2]) | UInt16(q81[36 * blk + 3]) << 8, Float16(Float(sum) * d).bitPattern, "s")
        }
        q8k.withUnsafeBytes { k in
            for blk in 0..<2 {
                let d = k.load(fromByteOffset: 292 * blk, as: Float.self)
                for j in 0..<256 {
                    let q = Float(Int8(bitPattern: k[292 * blk + 4 + j]))
                    XCTAssertLessThanOrEqual(abs(q * d - x[256 * blk + j]), abs(d) / 2 * 1.0001, "q8_K \(blk) \(j)")
                }
                for g in 0..<16 {
                    let sum = (0..<16).reduce(0) { $0 + Int(Int8(bitPattern: k[292 * blk + 4 + 16 * g + $1])) }
                    XCTAssertEqual(Int(k.load(fromByteOffset: 292 * blk + 260 + 2 * g, as: Int16.self)), sum, "bsum")
                }
            }
            XCTAssertEqual(Int8(bitPattern: k[292 + 4 + 300 - 256]), -127)
            XCTAssertGreaterThan(k.load(fromByteOffset: 292, as: Float.self), 0, "d = 1/(−127/max) > 0 for a negative max")
        }
        // The kernels' Int16 copy holds the same integers, in order, and the same sums.
        x.withUnsafeBufferPointer { xp in
            let act = QuantizedActivations(format: .q8K, x: xp.baseAddress!, rows: 2, cols: 256)
            defer { act.deallocate() }
            for blk in 0..<2 {
                for j in 0..<256 {
                    XCTAssertEqual(act.q[256 * blk + j], Int16(Int8(bitPattern: q8k[292 * blk + 4 + j])))
                }
                XCTAssertEqual(act.scale[blk], q8k.withUnsafeBytes { $0.load(fromByteOffset: 292 * blk, as: Float.self) })
            }
        }
    }

    func testActivationQuantizersSurviveInfinityAndNaN() {
        var x = randoms(256, seed: 3)
        x[0] = .infinity; x[40] = .nan; x[100] = -.infinity
        var q80 = [UInt8](repeating: 0, count: 8 * 34), q8k = [UInt8](repeating: 0, count: 292)
        x.withUnsafeBufferPointer { xp in
            q80.withUnsafeMutableBytes { quantizeRowQ8_0(xp.baseAddress!, $0.baseAddress!, count: 256) }
            q8k.withUnsafeMutableBytes { quantizeRowQ8_K(xp.baseAddress!, $0.baseAddress!, count: 256) }
        }
        // No trap, and the finite blocks are quantized exactly as on their own.
        var alone = [UInt8](repeating: 0, count: 34)
        Array(x[96..<128]).withUnsafeBufferPointer { xp in
            alone.withUnsafeMutableBytes { quantizeRowQ8_0(xp.baseAddress!, $0.baseAddress!, count: 32) }
        }
        XCTAssertEqual(Array(q80[(34 * 3)..<(34 * 4)]), alone)
    }

    // MARK: Quantized matmul

    /// Deterministic pseudo-random floats in [−1, 1).
    func randoms(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2000) / 1000 - 1
        }
    }

    /// Random block bytes for `type` with every f16 scale field set to a finite value of moderate size,
    /// so each decode path (nibbles, fifth bits, packed 6-bit scales, signed Q6_K scales) is exercised.
    func randomWeights(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64) -> [UInt8] {
        let count = type.byteCount(elements: rows * cols)!
        var s = seed
        var out = (0..<count).map { _ -> UInt8 in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: s >> 33)
        }
        func setHalf(_ at: Int, _ v: Float) {
            let h = Float16(v).bitPattern
            out[at] = UInt8(h & 0xFF); out[at + 1] = UInt8(h >> 8)
        }
        let scaleFields: [Int]
        switch type {
        case .q4_0, .q5_0, .q8_0: scaleFields = [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: scaleFields = [0, 2]
        case .q6_K: scaleFields = [208]
        case .f16:
            for (i, v) in randoms(rows * cols, seed: seed).enumerated() { setHalf(2 * i, v) }
            return out
        case .bf16:
            for (i, v) in randoms(rows * cols, seed: seed).enumerated() {
                let b = floatToBFloat16(v); out[2 * i] = UInt8(b & 0xFF); out[2 * i + 1] = UInt8(b >> 8)
            }
            return out
        default: preconditionFailure()
        }
        let values = randoms(count / type.blockBytes * scaleFields.count, seed: seed ^ 0x5555)
        var v = 0
        for blk in 0..<(count / type.blockBytes) {
            for f in scaleFields { setHalf(blk * type.blockBytes + f, values[v] * 0.05); v += 1 }
        }
        return out
    }

    func run(_ type: GGMLType, _ w: [UInt8], rows: Int, cols: Int, _ x: [Float], batch: Int,
             path: (WeightMatrix, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        var y = [Float](repeating: .nan, count: batch * rows)
        w.withUnsafeBytes { wp in
            let m = WeightMatrix(type: type, data: wp.baseAddress!, rows: rows, cols: cols, owner: nil)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { path(m, xp.baseAddress!, batch, $0.baseAddress!) } }
        }
        return y
    }

    /// Σ_k |W[r,k]·x[b,k]| per output: the scale against which float rounding is judged.
    func magnitudes(_ wf: [Float], rows: Int, cols: Int, _ x: [Float], batch: Int) -> [Float] {
        Reference.matmul(wf.map(abs), rows: rows, cols: cols, x.map(abs), batch: batch)
    }

    func assertWithin(_ got: [Float], _ expected: [Float], bounds: [Float], label: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        var bad: [String] = [], worst: Float = 0
        for i in 0..<got.count {
            let d = abs(got[i] - expected[i])
            worst = max(worst, bounds[i] > 0 ? d / bounds[i] : d)
            if !(d <= bounds[i]) && bad.count < 5 { bad.append("[\(i)] \(got[i]) vs \(expected[i]) (bound \(bounds[i])) NOT OK") }
        }
        if !bad.isEmpty {
            XCTFail("\(label): worst diff/bound \(worst); first differing: \(bad.joined(separator: "; "))", file: file, line: line)
        }
    }

    static let quantTypes: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K]

    func testEightBitRowDotsMatchTheIntegerTwin() {
        for type in Self.quantTypes {
            let cols = type.blockSize == 256 ? 512 : 352, rows = 37   // 11 blocks: an 8-block step and a tail
            let w = randomWeights(type, rows: rows, cols: cols, seed: UInt64(type.rawValue) + 1)
            let wf = Reference.dequantize(type, w)
            for batch in [1, 3, 16] {
                let x = randoms(batch * cols, seed: 7 &* UInt64(batch))
                let got = run(type, w, rows: rows, cols: cols, x, batch: batch) { matmulByRowDots($0, $1, batch: $2, $3) }
                let twin = Reference.quantizedDotMatmul(type, w, rows: rows, cols: cols, x, batch: batch)
                let bounds = magnitudes(wf, rows: rows, cols: cols, x, batch: batch).map { $0 * Tolerance.q8DotRounding + 1e-7 }
                assertWithin(got, twin, bounds: bounds, label: "\(type) 8-bit dots batch \(batch)")
            }
        }
    }

    /// The 8-bit path differs from f32 activations only by the activation rounding: measured here
    /// against the worst-case bound so a layout or offset bug (errors of order Σ|W·x|) fails.
    func testEightBitRowDotsMatchTheFloatTwinWithinActivationError() {
        for type in Self.quantTypes {
            let cols = type.blockSize == 256 ? 512 : 160, rows = 21, batch = 2
            let w = randomWeights(type, rows: rows, cols: cols, seed: UInt64(type.rawValue) + 100)
            let wf = Reference.dequantize(type, w)
            let x = randoms(batch * cols, seed: 5)
            let got = run(type, w, rows: rows, cols: cols, x, batch: batch) { matmulByRowDots($0, $1, batch: $2, $3) }
            let twin = Reference.quantizedMatmul(type, w, rows: rows, cols: cols, x, batch: batch)
            let block = type.blockSize
            var bounds = [Float](repeating: 0, count: batch * rows)
            for b in 0..<batch {
                let amax = (0..<(cols / block)).map { k in x[(b * cols + k * block)..<(b * cols + (k + 1) * block)].map(abs).max()! }
                for r in 0..<rows {
                    var bound: Float = 0
                    for k in 0..<cols { bound += abs(wf[r * cols + k]) * amax[k / block] / 254 }
                    bounds[b * rows + r] = bound * Tolerance.q8ActivationErrorBound + 1e-6
                }
            }
            assertWithin(got, twin, bounds: bounds, label: "\(type) 8-bit vs f32 activations")
            // Sanity: the f32 twin and the 8-bit path are not trivially equal (the bound is not vacuous).
            XCTAssertGreaterThan(zip(got, twin).map { abs($0 - $1) }.max()!, 0, "\(type)")
        }
    }

    func testMatmulDispatchMatchesFloatTwinForBatchesAndOddRowCounts() {
        for type in Self.quantTypes + [.f16, .bf16] {
            let cols = type.blockSize == 256 ? 256 : 160
            for rows in [1, 17, 37, 300] {
                let w = randomWeights(type, rows: rows, cols: cols, seed: UInt64(rows) &* 31 &+ UInt64(type.rawValue))
                let wf = Reference.dequantize(type, w)
                for batch in [1, 3, 64] {
                    let x = randoms(batch * cols, seed: UInt64(batch + rows))
                    let got = run(type, w, rows: rows, cols: cols, x, batch: batch) { matmul($0, $1, batch: $2, $3) }
                    let twin = Reference.quantizedMatmul(type, w, rows: rows, cols: cols, x, batch: batch)
                    let mags = magnitudes(wf, rows: rows, cols: cols, x, batch: batch)
                    let eightBit = batch < rowDotBatchLimit(cols: cols) && type.blockSize > 1
                    // 8-bit activations: within the activation rounding (≤ Σ|W|·amax/254 ≤ Σ|W·x|-scale
                    // bound below for these inputs); f32 paths: float rounding only.
                    let bounds = mags.map { eightBit ? $0 * Tolerance.q8ActivationRelative + 1e-3 : $0 * Tolerance.panelRounding + 1e-6 }
                    assertWithin(got, twin, bounds: bounds, label: "\(type) rows \(rows) batch \(batch)")
                }
            }
        }
    }

    func testPanelPathMatchesFloatTwin() {
        for type in Self.quantTypes {
            let cols = type.blockSize == 256 ? 512 : 256, batch = 5
            let rows = panelRows(cols: cols) + 3   // a full panel and a partial one
            let w = randomWeights(type, rows: rows, cols: cols, seed: 77 + UInt64(type.rawValue))
            let wf = Reference.dequantize(type, w)
            let x = randoms(batch * cols, seed: 8)
            let got = run(type, w, rows: rows, cols: cols, x, batch: batch) { matmulByPanels($0, $1, batch: $2, $3) }
            let bounds = magnitudes(wf, rows: rows, cols: cols, x, batch: batch).map { $0 * Tolerance.panelRounding + 1e-6 }
            assertWithin(got, Reference.quantizedMatmul(type, w, rows: rows, cols: cols, x, batch: batch), bounds: bounds,
                         label: "\(type) panels")
        }
    }

    struct DotManifest: Decodable {
        struct File: Decodable { let type: String; let rows: Int; let cols: Int; let block_file: String; let x_file: String; let ggml_file: String }
        let files: [File]
    }

    /// llama.cpp's own dot products (tools/make_ggml_dot_fixtures.py calls ggml's kernels): the 8-bit
    /// path reproduces them to float rounding, the f32 path differs by the activation quantization.
    func testEightBitRowDotsMatchLlamaCppVecDot() throws {
        let data = try Data(contentsOf: Self.fixtureDirectory.appendingPathComponent("dot_manifest.json"))
        let files = try JSONDecoder().decode(DotManifest.self, from: data).files
        XCTAssertEqual(files.count, Self.quantTypes.count)
        for f in files {
            let type = try XCTUnwrap(ggmlType(f.type))
            let w = try bytes(f.block_file), x = try floats(f.x_file), ggml = try floats(f.ggml_file)
            let wf = Reference.dequantize(type, w)
            let mags = magnitudes(wf, rows: f.rows, cols: f.cols, x, batch: 1)
            let eightBit = run(type, w, rows: f.rows, cols: f.cols, x, batch: 1) { matmulByRowDots($0, $1, batch: $2, $3) }
            let f32 = run(type, w, rows: f.rows, cols: f.cols, x, batch: 1) { matmulByPanels($0, $1, batch: $2, $3) }
            func worst(_ y: [Float]) -> Float { (0..<f.rows).map { abs(y[$0] - ggml[$0]) / mags[$0] }.max()! }
            print("\(f.type): |Easel − llama.cpp| / Σ|W·x|: 8-bit activations \(worst(eightBit)), f32 activations \(worst(f32))")
            assertWithin(eightBit, ggml, bounds: mags.map { $0 * Tolerance.llamaCppDot }, label: "\(f.type) vs ggml_vec_dot")
        }
    }

    struct ModelRows: Decodable {
        struct Rows: Decodable {
            let name: String; let type: String; let offset: UInt64; let rows: Int; let cols: Int
            let raw_fnv1a64: String; let dequant_fnv1a64: String; let ggml_dots: [Float]
        }
        let model: String
        let tensors: [Rows]
    }

    func fnv1a64(_ bytes: UnsafeRawBufferPointer) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return String(h, radix: 16).leftPadded(to: 16)
    }

    /// Real SmolLM2 rows (Q4_1 attn_q and the Q8_0 embedding that is also the output layer), read at the
    /// offsets gguf-py reported: the decode is bitwise gguf-py's and the 8-bit dots are llama.cpp's.
    func testDefaultModelRowsDecodeAsGgufPyAndMultiplyAsLlamaCpp() throws {
        let manifest = try JSONDecoder().decode(ModelRows.self, from: Data(contentsOf: Self.fixtureDirectory.appendingPathComponent("model_rows.json")))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent(manifest.model).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("default model missing at \(path): run scripts/setup.sh")
        }
        let file = try XCTUnwrap(FileHandle(forReadingAtPath: path))
        defer { try? file.close() }
        for t in manifest.tensors {
            let type = try XCTUnwrap(ggmlType(t.type))
            try file.seek(toOffset: t.offset)
            let raw = [UInt8](try XCTUnwrap(try file.read(upToCount: t.rows * type.byteCount(elements: t.cols)!)))
            XCTAssertEqual(raw.withUnsafeBytes { fnv1a64($0) }, t.raw_fnv1a64, "\(t.name): not the recorded bytes (other model file?)")
            var values = [Float](repeating: .nan, count: t.rows * t.cols)
            raw.withUnsafeBytes { src in
                values.withUnsafeMutableBufferPointer { dst in
                    for r in 0..<t.rows {
                        dequantizeRow(type, src.baseAddress! + r * type.byteCount(elements: t.cols)!, dst.baseAddress! + r * t.cols, count: t.cols)
                    }
                }
            }
            XCTAssertEqual(values.withUnsafeBytes { fnv1a64($0) }, t.dequant_fnv1a64, "\(t.name): dequantization differs from gguf-py's")
            let x = (0..<t.cols).map { Float(Double((37 * $0) % 101) / 50 - 1) }
            let y = run(type, raw, rows: t.rows, cols: t.cols, x, batch: 1) { matmulByRowDots($0, $1, batch: $2, $3) }
            let bounds = magnitudes(values, rows: t.rows, cols: t.cols, x, batch: 1).map { $0 * Tolerance.llamaCppDot }
            assertWithin(y, t.ggml_dots, bounds: bounds, label: "\(t.name) 8-bit dots vs llama.cpp")
        }
    }

    /// Not a timed test: prints kernel throughput when EASEL_KERNEL_BENCH=1, otherwise skips.
    func testKernelBenchmark() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["EASEL_KERNEL_BENCH"] == "1",
                          "set EASEL_KERNEL_BENCH=1 to print kernel throughput")
        let env = ProcessInfo.processInfo.environment
        // EASEL_KERNEL_BENCH_TYPES=Q4_1,Q8_0 limits the run to those weight types.
        let types = env["EASEL_KERNEL_BENCH_TYPES"].map { Set($0.split(separator: ",").map(String.init)) }
        let cases = KernelBench.defaultCases.filter { types?.contains($0.type.description) ?? true }
        let results = KernelBench.run(iterations: Int(env["EASEL_KERNEL_BENCH_ITERS"] ?? "") ?? 20, cases: cases)
        for line in KernelBench.report(results) { print(line) }
    }
}
