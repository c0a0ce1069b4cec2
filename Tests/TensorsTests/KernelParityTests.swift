import XCTest
@testable import Tensors

/// Each fast kernel against its scalar twin in Reference, on deterministic pseudo-random inputs.
final class KernelParityTests: XCTestCase {
    func randoms(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2000) / 1000 - 1
        }
    }

    func testFloat32MatmulMatchesReferenceForVectorsAndBatches() {
        let rows = 37, cols = 64
        let w = randoms(rows * cols, seed: 1)
        let wt = Tensor(shape: [rows, cols], values: w)
        for batch in [1, 3, 17] {
            let x = randoms(batch * cols, seed: UInt64(batch))
            var y = [Float](repeating: 0, count: batch * rows)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { matmul(WeightMatrix(wt), xp.baseAddress!, batch: batch, $0.baseAddress!) }
            }
            assertClose(y, Reference.matmul(w, rows: rows, cols: cols, x, batch: batch),
                        tol: Tolerance.float32Kernel, label: "f32 matmul batch \(batch)")
        }
    }

    func testHalfWeightsMatchFloatWeightsThroughThePanelPath() {
        let rows = 300, cols = 32
        let w = randoms(rows * cols, seed: 9).map { Float(Float16($0)) }
        let halves = w.map { floatToHalf($0) }
        let x = randoms(2 * cols, seed: 4)
        var y = [Float](repeating: 0, count: 2 * rows)
        halves.withUnsafeBytes { hp in
            let m = WeightMatrix(type: .f16, data: hp.baseAddress!, rows: rows, cols: cols, owner: nil)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { matmul(m, xp.baseAddress!, batch: 2, $0.baseAddress!) }
            }
        }
        assertClose(y, Reference.matmul(w, rows: rows, cols: cols, x, batch: 2), tol: Tolerance.float32Kernel, label: "f16 panels")
    }

    func testRMSNormMatchesReference() {
        let dim = 50
        let x = randoms(3 * dim, seed: 2), w = randoms(dim, seed: 3)
        var y = [Float](repeating: 0, count: x.count)
        y.withUnsafeMutableBufferPointer { rmsNorm(x, w, $0.baseAddress!, rows: 3, dim: dim, eps: 1e-5) }
        assertClose(y, Reference.rmsNorm(x, w, eps: 1e-5), tol: Tolerance.float32Kernel, label: "rmsnorm")
    }

    func testSoftmaxMatchesReferenceAndSumsToOne() {
        var x = randoms(33, seed: 5).map { $0 * 20 }
        let expected = Reference.softmax(x)
        x.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, count: 33) }
        assertClose(x, expected, tol: Tolerance.float32Kernel, label: "softmax")
        XCTAssertEqual(x.reduce(0, +), 1, accuracy: 1e-5)
    }

    func testRoPEBothLayoutsMatchTheDefinition() {
        let headDim = 16
        let table = RoPETable(headDim: headDim, base: 10000, maxPositions: 64)
        for layout in [RoPELayout.normal, .neox] {
            for position in [0, 1, 63] {
                var x = randoms(headDim, seed: UInt64(position + 10))
                let expected = Reference.rope(x, position: position, base: 10000, layout: layout)
                x.withUnsafeMutableBufferPointer { table.apply($0.baseAddress!, heads: 1, position: position, layout: layout) }
                assertClose(x, expected, tol: Tolerance.float32Kernel, label: "rope \(layout) pos \(position)")
            }
        }
    }

    func testBFloat16RoundTripRoundsToNearestEven() {
        XCTAssertEqual(bfloat16ToFloat(floatToBFloat16(1.0)), 1.0)
        XCTAssertEqual(floatToBFloat16(Float(bitPattern: 0x3F80_8000)), 0x3F80)   // tie → even
        XCTAssertEqual(floatToBFloat16(Float(bitPattern: 0x3F81_8000)), 0x3F82)   // tie → even (up)
    }

    func testByteCountRejectsPartialBlocksAndOverflow() {
        XCTAssertEqual(GGMLType.q4_1.byteCount(elements: 64), 40)
        XCTAssertNil(GGMLType.q4_1.byteCount(elements: 33))
        XCTAssertNil(GGMLType.f32.byteCount(elements: Int.max))
    }
}

final class HalfConversionTests: XCTestCase {
    /// All 65536 half bit patterns widen exactly as Float16's own conversion does (NaNs stay NaN).
    func testEveryHalfWidensExactlyThroughTheSIMDPath() {
        let all = (0...0xFFFF).map { UInt16($0) }
        var widened = [Float](repeating: 0, count: all.count)
        all.withUnsafeBytes { src in
            widened.withUnsafeMutableBufferPointer { convertHalfToFloat(src.baseAddress!, $0.baseAddress!, count: all.count) }
        }
        for (bits, f) in zip(all, widened) {
            let expected = Float(Float16(bitPattern: bits))
            if expected.isNaN { XCTAssertTrue(f.isNaN, "bits \(bits)"); continue }
            XCTAssertEqual(f.bitPattern, expected.bitPattern, "bits \(String(bits, radix: 16))")
        }
    }

    func testHalfDotAndAxpyMatchFloatReference() {
        let n = 37
        let a = (0..<n).map { Float($0) * 0.25 - 3 }
        let b = (0..<n).map { Float16(Float($0 % 7) * 0.5 - 1) }
        let expected = zip(a, b).reduce(Float(0)) { $0 + $1.0 * Float($1.1) }
        let got = a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { dot(ap.baseAddress!, half: $0.baseAddress!, n) } }
        XCTAssertEqual(got, expected, accuracy: 1e-4)
        var y = [Float](repeating: 1, count: n)
        b.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer { axpy(2, half: bp.baseAddress!, $0.baseAddress!, n) } }
        XCTAssertEqual(y, b.map { 1 + 2 * Float($0) })
    }
}

final class ParallelTests: XCTestCase {
    /// Every index runs exactly once, across pool restarts (`easel --threads N` reconfigures the pool).
    func testForRangesCoversEachIndexOnceAcrossReconfiguration() {
        defer { Parallel.configure(threads: Parallel.defaultThreadCount()) }
        for threads in [2, 3, 1, 2, 4] {
            Parallel.configure(threads: threads)
            for count in [1, 2, 7, 1000] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
                hits.initialize(repeating: 0, count: count)
                defer { hits.deallocate() }
                for _ in 0..<50 {
                    Parallel.forRanges(count) { range in for i in range { hits[i] += 1 } }
                }
                XCTAssertTrue((0..<count).allSatisfy { hits[$0] == 50 }, "threads \(threads), count \(count)")
            }
        }
    }

    func testNestedLoopsRunInline() {
        var inner = [Int](repeating: 0, count: 8)
        inner.withUnsafeMutableBufferPointer { buf in
            let p = buf.baseAddress!
            Parallel.forRanges(8) { outer in
                for i in outer { Parallel.forRanges(4) { r in p[i] += r.count } }
            }
        }
        XCTAssertEqual(inner, [Int](repeating: 4, count: 8))
    }
}
