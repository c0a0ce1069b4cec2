import Foundation

/// Micro-benchmark of the matmul kernels on model-shaped weights (SmolLM2-135M and LLaMA-2-7B layers),
/// for `easel bench kernels` and for tuning `rowDotBatchLimit(cols:)`. It only measures and reports; no
/// test asserts on its numbers. Weights are synthetic blocks (random quants, moderate f16 scales):
/// the kernels' speed does not depend on the values.
public enum KernelBench {
    public struct Case: Sendable {
        public let type: GGMLType
        public let rows: Int, cols: Int, batch: Int
        /// "rowdot" (8-bit activations, or f16/bf16 on the fly), "panel" (dequantize + SGEMM),
        /// "dequant" (the panel path's dequantization alone, every row once, threaded as it is there),
        /// or "x8" (matmul on the 8-row interleaved copy, WeightMatrix.interleaved, at this batch).
        public let path: String
        public init(_ type: GGMLType, rows: Int, cols: Int, batch: Int, path: String) {
            self.type = type; self.rows = rows; self.cols = cols; self.batch = batch; self.path = path
        }
    }

    public struct Result: Sendable {
        public let benchCase: Case
        /// Median wall time of one matmul call.
        public let seconds: Double
        /// Fastest call: on a shared machine, closer to the kernel's own speed than the median.
        public let bestSeconds: Double
        /// Weight bytes read per second (once per call).
        public var weightGBps: Double { Double(benchCase.type.byteCount(elements: benchCase.rows * benchCase.cols)!) / seconds / 1e9 }
        /// 2·rows·cols·batch multiply-adds per second.
        public var gflops: Double { 2 * Double(benchCase.rows * benchCase.cols * benchCase.batch) / seconds / 1e9 }
    }

    /// SmolLM2-135M (dim 576, ffn 1536, 49152-token output tied to the Q8_0 embedding) and
    /// LLaMA-2-7B (dim 4096, ffn 11008) layer shapes, for decode (batch 1) and prefill (batch 128),
    /// plus the batch sizes around the row-dot/panel crossover.
    public static let defaultCases: [Case] = {
        var cases: [Case] = []
        for (type, rows, cols) in [(GGMLType.q4_1, 576, 576), (.q4_1, 1536, 576), (.q4_1, 576, 1536), (.q8_0, 49152, 576),
                                   (.q4_0, 4096, 4096), (.q4_0, 11008, 4096), (.q4_K, 4096, 4096), (.q4_K, 11008, 4096),
                                   (.q6_K, 4096, 4096), (.q5_0, 4096, 4096), (.q5_1, 4096, 4096), (.q5_K, 4096, 4096),
                                   (.q8_0, 4096, 4096), (.f16, 4096, 4096), (.bf16, 4096, 4096)] {
            cases.append(Case(type, rows: rows, cols: cols, batch: 1, path: "rowdot"))
        }
        for type in [GGMLType.q4_0, .q4_K, .q6_K] {
            for (rows, batch) in [(4096, 1), (11008, 1), (4096, 16), (4096, 128)] {
                cases.append(Case(type, rows: rows, cols: 4096, batch: batch, path: "x8"))
            }
            cases.append(Case(type, rows: 4096, cols: 4096, batch: 16, path: "rowdot"))
            cases.append(Case(type, rows: 4096, cols: 4096, batch: 128, path: "panel"))
        }
        // Q6_K's other 7B shapes in a Q4_K_M file: ffn_down (43 super-blocks a row) and the output layer.
        for (rows, cols) in [(4096, 11008), (49152, 4096)] {
            cases.append(Case(.q6_K, rows: rows, cols: cols, batch: 1, path: "rowdot"))
            cases.append(Case(.q6_K, rows: rows, cols: cols, batch: 1, path: "x8"))
        }
        for batch in [2, 4, 8, 16] {
            cases.append(Case(.q4_1, rows: 1536, cols: 576, batch: batch, path: "rowdot"))
            cases.append(Case(.q4_1, rows: 1536, cols: 576, batch: batch, path: "panel"))
            cases.append(Case(.q4_K, rows: 4096, cols: 4096, batch: batch, path: "rowdot"))
            cases.append(Case(.q4_K, rows: 4096, cols: 4096, batch: batch, path: "panel"))
        }
        for (type, rows, cols) in [(GGMLType.q4_1, 1536, 576), (.q8_0, 49152, 576), (.q4_0, 4096, 4096), (.q4_K, 11008, 4096)] {
            cases.append(Case(type, rows: rows, cols: cols, batch: 128, path: "panel"))
            cases.append(Case(type, rows: rows, cols: cols, batch: 1, path: "dequant"))
        }
        return cases
    }()

    /// Runs each case `iterations` times (at most about a second each) and returns the medians.
    public static func run(iterations: Int = 20, cases: [Case] = defaultCases) -> [Result] {
        cases.map { c in
            let weights = syntheticWeights(c.type, rows: c.rows, cols: c.cols)
            defer { weights.deallocate() }
            let stored = WeightMatrix(type: c.type, data: UnsafeRawPointer(weights.baseAddress!), rows: c.rows, cols: c.cols, owner: nil)
            let w = c.path == "x8" ? stored.interleaved(releasingSource: false) : stored
            let x = UnsafeMutablePointer<Float>.allocate(capacity: c.batch * c.cols)
            let y = UnsafeMutablePointer<Float>.allocate(capacity: c.batch * c.rows)
            defer { x.deallocate(); y.deallocate() }
            for i in 0..<(c.batch * c.cols) { x[i] = Float(i % 13) / 6.5 - 1 }
            let panel = panelRows(cols: c.cols)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: c.path == "dequant" ? panel * c.cols : 0)
            defer { scratch.deallocate() }
            let call = {
                switch c.path {
                case "panel": matmulByPanels(w, x, batch: c.batch, y)
                case "dequant":
                    Parallel.forRanges(c.rows, grain: 8) { range in
                        for r in range { dequantizeRow(c.type, w.row(r), scratch + (r % panel) * c.cols, count: c.cols) }
                    }
                case "x8": matmul(w, x, batch: c.batch, y)
                default: matmulByRowDots(w, x, batch: c.batch, y)
                }
            }
            call()   // warm caches and page in the weights
            var times: [Double] = []
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<max(1, iterations) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                call()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                if Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 > 1 { break }
            }
            times.sort()
            return Result(benchCase: c, seconds: times[times.count / 2], bestSeconds: times[0])
        }
    }

    public static func report(_ results: [Result]) -> [String] {
        ["type   rows×cols      batch path    median µs   best µs   weight GB/s   GFLOP/s   (median; threads \(Parallel.threadCount))"]
            + results.map { r in
                let c = r.benchCase
                return "\(c.type.description.padding(toLength: 6, withPad: " ", startingAt: 0)) "
                    + "\("\(c.rows)×\(c.cols)".padding(toLength: 14, withPad: " ", startingAt: 0)) "
                    + "\(String(c.batch).padding(toLength: 5, withPad: " ", startingAt: 0)) \(c.path.padding(toLength: 7, withPad: " ", startingAt: 0)) "
                    + String(format: "%10.1f %9.1f   %11.2f   %7.2f", r.seconds * 1e6, r.bestSeconds * 1e6, r.weightGBps, r.gflops)
            }
    }

    /// Random quants with every f16 scale field set to a moderate value (random f16 bits could be NaN).
    static func syntheticWeights(_ type: GGMLType, rows: Int, cols: Int) -> UnsafeMutableRawBufferPointer {
        let bytes = type.byteCount(elements: rows * cols)!
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 64)
        var s: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in 0..<bytes {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            buffer[i] = UInt8(truncatingIfNeeded: s >> 33)
        }
        let half = floatToHalf(0.01)
        let fields: [Int]
        switch type {
        case .q4_0, .q5_0, .q8_0: fields = [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: fields = [0, 2]
        case .q6_K: fields = [208]
        case .f16, .bf16:
            for i in 0..<(rows * cols) { buffer.storeBytes(of: half, toByteOffset: 2 * i, as: UInt16.self) }
            fields = []
        default: fields = []
        }
        if !fields.isEmpty {
            for blk in 0..<(bytes / type.blockBytes) {
                for f in fields { buffer.storeBytes(of: half, toByteOffset: blk * type.blockBytes + f, as: UInt16.self) }
            }
        }
        return buffer
    }
}
