import Foundation
import XCTest
@testable import Tensors
#if canImport(Glibc)
import Glibc
#endif

/// The 8-row interleaved layout (Interleaved.swift): every matmul path on a repacked matrix against the
/// scalar twins on the stored bytes (Reference.quantizedDotMatmul for the 8-bit paths, the f32
/// Reference.quantizedMatmul for panels), restored rows and their dequantization bitwise, and the
/// fall-back of matrices the layout does not cover.
final class InterleavedTests: XCTestCase {
    func randoms(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2000) / 1000 - 1
        }
    }

    /// Random blocks with moderate finite f16 scales at `scaleFields` of every block.
    func randomWeights(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64) -> [UInt8] {
        let count = type.byteCount(elements: rows * cols)!
        var s = seed
        var out = (0..<count).map { _ -> UInt8 in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: s >> 33)
        }
        let scaleFields: [Int]
        switch type {
        case .q4_0, .q5_0, .q8_0: scaleFields = [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: scaleFields = [0, 2]
        case .q6_K: scaleFields = [208]
        default: preconditionFailure("no random blocks for \(type)")
        }
        let values = randoms(count / type.blockBytes * scaleFields.count, seed: seed ^ 0x5555)
        var v = 0
        for blk in 0..<(count / type.blockBytes) {
            for f in scaleFields {
                let h = Float16(values[v] * 0.05).bitPattern
                out[blk * type.blockBytes + f] = UInt8(h & 0xFF); out[blk * type.blockBytes + f + 1] = UInt8(h >> 8)
                v += 1
            }
        }
        return out
    }

    /// Σ_k |W[r,k]·x[b,k]|: the scale float rounding is judged against.
    func magnitudes(_ wf: [Float], rows: Int, cols: Int, _ x: [Float], batch: Int) -> [Float] {
        Reference.matmul(wf.map(abs), rows: rows, cols: cols, x.map(abs), batch: batch)
    }

    func assertWithin(_ got: [Float], _ expected: [Float], bounds: [Float], label: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, expected.count, "\(label): count", file: file, line: line)
        var bad: [String] = [], worst: Float = 0, maxDiff: Float = 0
        for i in 0..<min(got.count, expected.count) {
            let d = abs(got[i] - expected[i])
            worst = max(worst, bounds[i] > 0 ? d / bounds[i] : d)
            maxDiff = max(maxDiff, d.isNaN ? .infinity : d)
            if !(d <= bounds[i]) && bad.count < 5 { bad.append("[\(i)] \(got[i]) vs \(expected[i]) (bound \(bounds[i])) NOT OK") }
        }
        if !bad.isEmpty {
            XCTFail("\(label): max diff \(maxDiff), worst diff/bound \(worst); first differing: \(bad.joined(separator: "; "))",
                    file: file, line: line)
        }
    }

    /// matmul through the repacked copy of `w`; checks whether it was repacked.
    func interleavedMatmul(_ type: GGMLType, _ w: [UInt8], rows: Int, cols: Int, _ x: [Float], batch: Int,
                           expectInterleaved: Bool, file: StaticString = #filePath, line: UInt = #line) -> [Float] {
        var y = [Float](repeating: .nan, count: batch * rows)
        w.withUnsafeBytes { wp in
            let m = WeightMatrix(type: type, data: wp.baseAddress!, rows: rows, cols: cols, owner: nil)
                .interleaved(releasingSource: false)
            XCTAssertEqual(m.isInterleaved, expectInterleaved, "\(type) \(rows)×\(cols) repacked", file: file, line: line)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { matmul(m, xp.baseAddress!, batch: batch, $0.baseAddress!) } }
        }
        return y
    }

    /// One token (the 8-row kernel) and short batches (restored rows, UnpackedRow) equal the integer
    /// twin to float summation order: the integer block sums are the stored layout's.
    func testRepackedRowDotsMatchTheIntegerTwin() {
        // Q4_0: 11 blocks (a partial 32-block step), 64 blocks (two steps), one group of one block;
        // Q4_K: 5 super-blocks (a 4-block step and a tail), 8 (two steps), one group of one block;
        // Q6_K: 5 super-blocks (a 3-block step and a tail of 2), 43 (ffn_down's 11008 columns: 14 steps
        // and a tail of 1), one group of one block.
        for (type, rows, cols) in [(GGMLType.q4_0, 40, 352), (.q4_0, 16, 2048), (.q4_0, 8, 32),
                                   (.q4_K, 40, 1280), (.q4_K, 16, 2048), (.q4_K, 8, 256),
                                   (.q6_K, 40, 1280), (.q6_K, 16, 11008), (.q6_K, 8, 256)] {
            let w = randomWeights(type, rows: rows, cols: cols, seed: UInt64(rows * cols) &+ UInt64(type.rawValue))
            let wf = Reference.dequantize(type, w)
            for batch in [1, 3, rowDotBatchLimit(cols: cols) - 1] {
                let x = randoms(batch * cols, seed: 11 &* UInt64(batch) &+ UInt64(cols))
                let got = interleavedMatmul(type, w, rows: rows, cols: cols, x, batch: batch, expectInterleaved: true)
                let twin = Reference.quantizedDotMatmul(type, w, rows: rows, cols: cols, x, batch: batch)
                let bounds = magnitudes(wf, rows: rows, cols: cols, x, batch: batch).map { $0 * Tolerance.q8DotRounding + 1e-7 }
                assertWithin(got, twin, bounds: bounds, label: "\(type)x8 \(rows)×\(cols) batch \(batch)")
            }
        }
    }

    /// Panel-sized batches widen restored groups and multiply with SGEMM: f32 activations, float
    /// rounding only. 1032 rows of 2048 columns are a full 1024-row panel and an 8-row one.
    func testRepackedPanelsMatchTheFloatTwin() {
        let rows = panelRows(cols: 2048) + 8, cols = 2048, batch = rowDotBatchLimit(cols: cols)
        for type in [GGMLType.q4_0, .q4_K, .q6_K] {
            let w = randomWeights(type, rows: rows, cols: cols, seed: 5 &+ UInt64(type.rawValue))
            let wf = Reference.dequantize(type, w)
            let x = randoms(batch * cols, seed: 6)
            let got = interleavedMatmul(type, w, rows: rows, cols: cols, x, batch: batch, expectInterleaved: true)
            let bounds = magnitudes(wf, rows: rows, cols: cols, x, batch: batch).map { $0 * Tolerance.panelRounding + 1e-6 }
            assertWithin(got, Reference.quantizedMatmul(type, w, rows: rows, cols: cols, x, batch: batch), bounds: bounds,
                         label: "\(type)x8 panels")
        }
    }

    /// Row counts that are not a multiple of 8, fewer than 8 rows, and types without the layout keep
    /// the stored layout, and matmul still matches its twin.
    func testMatricesTheLayoutDoesNotCoverStayAsStored() {
        for (type, rows, cols) in [(GGMLType.q4_0, 37, 160), (.q4_0, 4, 64), (.q4_K, 37, 256), (.q4_1, 16, 64),
                                   (.q6_K, 36, 768), (.q6_K, 4, 256), (.q5_K, 16, 256)] {
            let w = randomWeights(type, rows: rows, cols: cols, seed: UInt64(rows) &+ UInt64(type.rawValue))
            let wf = Reference.dequantize(type, w)
            for batch in [1, 3] {
                let x = randoms(batch * cols, seed: UInt64(batch))
                let got = interleavedMatmul(type, w, rows: rows, cols: cols, x, batch: batch, expectInterleaved: false)
                let twin = Reference.quantizedDotMatmul(type, w, rows: rows, cols: cols, x, batch: batch)
                let bounds = magnitudes(wf, rows: rows, cols: cols, x, batch: batch).map { $0 * Tolerance.q8DotRounding + 1e-7 }
                assertWithin(got, twin, bounds: bounds, label: "\(type) \(rows) rows batch \(batch)")
            }
        }
    }

    /// Restoring a group gives back the stored bytes, and widening the repacked rows equals
    /// dequantizeRow on the stored rows bitwise.
    func testRepackedRowsRestoreAndDequantizeExactly() {
        for (type, cols) in [(GGMLType.q4_0, 96), (.q4_K, 512), (.q6_K, 768)] { restoresAndDequantizesExactly(type, rows: 24, cols: cols) }
    }

    /// Q6_Kx8 regroups ql nibbles between words; the regrouping is its own inverse and pairs the weights
    /// as Q4_K's qs bytes do (checked here on words whose nibbles name their weights).
    func testQ6KNibbleRegroupingIsAnInvolutionThatPairsWeightsAsQ4K() {
        var s: UInt64 = 1
        for _ in 0..<1000 {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            let a = UInt32(truncatingIfNeeded: s), b = UInt32(truncatingIfNeeded: s >> 32)
            let (x, y) = regroupedNibbles(a, b)
            let (a2, b2) = regroupedNibbles(x, y)
            XCTAssertEqual(a2, a); XCTAssertEqual(b2, b)
        }
        // Byte t of a: low nibble weight t (a stand-in for w + t), high nibble t + 64 (written 4 + t),
        // b's: t + 32 (8 + t) and t + 96 (12 + t). Regrouped: x pairs t with t + 32, y t + 64 with t + 96.
        func word(_ low: UInt32, _ high: UInt32) -> UInt32 {
            (0..<4).reduce(0) { $0 | ((low + UInt32($1)) | (high + UInt32($1)) << 4) << (8 * UInt32($1)) }
        }
        let (x, y) = regroupedNibbles(word(0, 4), word(8, 12))
        XCTAssertEqual(x, word(0, 8)); XCTAssertEqual(y, word(4, 12))
    }

    /// llama.cpp's own ggml_vec_dot_q6_K_q8_K (the QuantTests fixture, 4 rows of 512) through the Q6_Kx8
    /// kernel: the 4 rows twice make one 8-row group. Same integers, so float summation order only.
    func testQ6KInterleavedMatchesLlamaCppVecDot() throws {
        let dir = QuantTests.fixtureDirectory
        func load(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: dir.appendingPathComponent(name))) }
        func floats(_ b: [UInt8]) -> [Float] {
            stride(from: 0, to: b.count, by: 4).map { i in Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[i + $1]) << (8 * $1) }) }
        }
        let rows = 4, cols = 512, type = GGMLType.q6_K
        let w = try load("dot_q6_k.blocks"), x = floats(try load("dot_q6_k.x.f32")), ggml = floats(try load("dot_q6_k.ggml.f32"))
        XCTAssertEqual(w.count, type.byteCount(elements: rows * cols)!)
        let got = interleavedMatmul(type, w + w, rows: 2 * rows, cols: cols, x, batch: 1, expectInterleaved: true)
        let mags = magnitudes(Reference.dequantize(type, w), rows: rows, cols: cols, x, batch: 1)
        assertWithin(got, ggml + ggml, bounds: (mags + mags).map { $0 * Tolerance.llamaCppDot }, label: "Q6_Kx8 vs ggml_vec_dot_q6_K_q8_K")
    }

    func restoresAndDequantizesExactly(_ type: GGMLType, rows: Int, cols: Int) {
        let w = randomWeights(type, rows: rows, cols: cols, seed: 3)
        let rowBytes = cols / type.blockSize * type.blockBytes
        w.withUnsafeBytes { wp in
            let stored = WeightMatrix(type: type, data: wp.baseAddress!, rows: rows, cols: cols, owner: nil)
            let m = stored.interleaved(releasingSource: false)
            XCTAssertTrue(m.isInterleaved)
            var restored = [UInt8](repeating: 0, count: w.count)
            restored.withUnsafeMutableBytes { rp in
                for r in 0..<rows {
                    for i in 0..<(cols / type.blockSize) {
                        restoreBlock(type, interleaved: m.data + (r / 8) * 8 * rowBytes + 8 * type.blockBytes * i, row: r % 8,
                                     stored: rp.baseAddress! + r * rowBytes + type.blockBytes * i)
                    }
                }
            }
            if let i = (0..<w.count).first(where: { w[$0] != restored[$0] }) {
                XCTFail("\(type) restored byte \(i): \(restored[i]) vs stored \(w[i]) NOT OK")
            }
            var expected = [Float](repeating: 0, count: rows * cols), got = [Float](repeating: .nan, count: rows * cols)
            expected.withUnsafeMutableBufferPointer { e in
                for r in 0..<rows { dequantizeRow(type, stored.row(r), e.baseAddress! + r * cols, count: cols) }
            }
            got.withUnsafeMutableBufferPointer { dequantizeInterleavedRows(m, from: 8, count: 16, $0.baseAddress! + 8 * cols) }
            got.withUnsafeMutableBufferPointer { dequantizeInterleavedRows(m, from: 0, count: 8, $0.baseAddress!) }
            if let i = (0..<got.count).first(where: { got[$0].bitPattern != expected[$0].bitPattern }) {
                let maxDiff = zip(got, expected).map { abs($0 - $1) }.max()!
                XCTFail("\(type) dequantized [\(i)] \(got[i]) vs \(expected[i]) NOT OK, max diff \(maxDiff)")
            }
        }
    }

    /// Repacking from a private read-only file mapping drops the mapped pages; the mapping still reads
    /// the file's bytes afterwards (refilled from the file) and the repacked copy multiplies correctly.
    func testReleasingAFileMappingLosesNothing() throws {
        for sliceBytes in [16 << 20, 20_000] { try releasingAFileMappingLosesNothing(sliceBytes: sliceBytes) }
    }

    /// `sliceBytes` 20 000: copied and released in slices of 32 rows (18 432 bytes, not whole pages).
    func releasingAFileMappingLosesNothing(sliceBytes: Int) throws {
        let rows = 256, cols = 1024, type = GGMLType.q4_0   // 288 KiB: many whole pages
        let w = randomWeights(type, rows: rows, cols: cols, seed: 9)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("easel-interleave-\(getpid()).bin")
        try Data(w).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let fd = open(url.path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let address = try XCTUnwrap(mmap(nil, w.count, PROT_READ, MAP_PRIVATE, fd, 0))
        XCTAssertNotEqual(address, MAP_FAILED)
        defer { munmap(address, w.count) }
        let m = WeightMatrix(type: type, data: UnsafeRawPointer(address), rows: rows, cols: cols, owner: nil)
            .interleaved(releasingSource: true, sliceBytes: sliceBytes)
        XCTAssertTrue(m.isInterleaved)
        let mapped = UnsafeRawBufferPointer(start: UnsafeRawPointer(address), count: w.count)
        XCTAssertTrue(mapped.elementsEqual(w), "the mapping reads the file's bytes after its pages were dropped")
        let x = randoms(cols, seed: 4)
        var y = [Float](repeating: .nan, count: rows)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { matmul(m, xp.baseAddress!, batch: 1, $0.baseAddress!) } }
        let wf = Reference.dequantize(type, w)
        let bounds = magnitudes(wf, rows: rows, cols: cols, x, batch: 1).map { $0 * Tolerance.q8DotRounding + 1e-7 }
        assertWithin(y, Reference.quantizedDotMatmul(type, w, rows: rows, cols: cols, x, batch: 1), bounds: bounds,
                     label: "Q4_0x8 from a released mapping, slices of \(sliceBytes) bytes")
    }
}
