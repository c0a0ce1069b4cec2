import COpenBLAS
import Dispatch
import Foundation

/// The one thread budget for all of Easel's kernels and for OpenBLAS. Sized to the machine's cores,
/// overridable with EASEL_THREADS or `Parallel.configure(threads:)`.
public enum Parallel {
    nonisolated(unsafe) public private(set) static var threadCount: Int = {
        let n = defaultThreadCount()
        openblas_set_num_threads(Int32(n))
        return n
    }()

    public static func defaultThreadCount() -> Int {
        if let text = ProcessInfo.processInfo.environment["EASEL_THREADS"], let n = Int(text), n > 0 {
            return min(n, 256)
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    public static func configure(threads: Int) {
        threadCount = max(1, min(threads, 256))
        openblas_set_num_threads(Int32(threadCount))
    }

    /// Splits 0..<count into at most `threadCount` contiguous chunks of at least `grain` items and
    /// runs `body` on each concurrently. Small jobs run inline: a dispatch costs microseconds.
    public static func forRanges(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(threadCount, max(1, count / max(grain, 1)))
        if chunks == 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }
}
