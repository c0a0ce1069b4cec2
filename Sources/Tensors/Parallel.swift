import COpenBLAS
import Foundation
import Synchronization

/// The one thread budget for all of Easel's kernels and for OpenBLAS. Sized to the machine's cores,
/// overridable with EASEL_THREADS or `Parallel.configure(threads:)`.
///
/// Work is spread over a persistent pool (`WorkerPool`) rather than a dispatch per call: decoding one
/// token of a 30-layer model runs about 300 parallel loops of a few microseconds each, where waking
/// threads through the OS for every loop would cost as much as the work.
public enum Parallel {
    nonisolated(unsafe) public private(set) static var threadCount: Int = {
        let n = defaultThreadCount()
        openblas_set_num_threads(Int32(n))
        return n
    }()

    nonisolated(unsafe) private static var sharedPool: WorkerPool?
    private static let poolLock = NSLock()

    /// The pool for `threadCount`, started on first use.
    static var pool: WorkerPool? {
        poolLock.withLock {
            if sharedPool == nil && threadCount > 1 { sharedPool = WorkerPool(workers: threadCount - 1) }
            return sharedPool
        }
    }

    public static func defaultThreadCount() -> Int {
        if let text = ProcessInfo.processInfo.environment["EASEL_THREADS"], let n = Int(text), n > 0 {
            return min(n, 256)
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Call before any parallel work starts (the CLI does it while parsing flags).
    public static func configure(threads: Int) {
        poolLock.withLock {
            threadCount = max(1, min(threads, 256))
            openblas_set_num_threads(Int32(threadCount))
            sharedPool?.shutDown()
            sharedPool = nil
        }
    }

    /// Splits 0..<count into at most `threadCount` contiguous chunks of at least `grain` items and
    /// runs `body` on each concurrently, the calling thread taking a share. A call made from inside
    /// another parallel loop, or while another thread owns the pool, runs inline.
    public static func forRanges(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(threadCount, max(1, count / max(grain, 1)))
        guard chunks > 1, let pool else { body(0..<count); return }
        let ran = pool.run(chunks: chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
        if !ran { body(0..<count) }
    }
}

/// Worker threads that spin briefly between jobs (consecutive kernels follow each other within
/// microseconds) and then sleep on a condition variable, so an idle Easel costs no CPU.
///
/// One atomic word holds the job's generation (high 32 bits) and the next chunk to claim (low 32
/// bits); a thread claims a chunk by compare-and-swap only while the generation is the one it read
/// the job under, so a late thread can never run a chunk of a job that has been replaced.
final class WorkerPool: @unchecked Sendable {
    private let state = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private var job: ((Int) -> Void)?
    private var chunkCount = 0
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private let owner = NSLock()
    /// Iterations of checking for a new job before sleeping: about 20-50 µs.
    private let spinLimit = 20_000

    init(workers: Int) {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
        for _ in 0..<workers {
            // The thread holds the pool until shutDown() lets it return.
            let thread = Thread { self.workerLoop() }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Runs body(0..<chunks) across the pool and the caller. Returns false, having run nothing, when
    /// the pool is busy with another thread's job or the caller is itself inside a job.
    func run(chunks: Int, _ body: (Int) -> Void) -> Bool {
        if WorkerPool.insideJob { return false }
        guard owner.try() else { return false }
        defer { owner.unlock() }
        return withoutActuallyEscaping(body) { body in
            job = body
            chunkCount = chunks
            finished.store(0, ordering: .relaxed)
            let generation = (state.load(ordering: .relaxed) >> 32) &+ 1
            state.store((generation & 0x7FFF_FFFF) << 32, ordering: .releasing)
            if sleepers.load(ordering: .acquiring) > 0 {
                pthread_mutex_lock(&mutex)
                pthread_cond_broadcast(&condition)
                pthread_mutex_unlock(&mutex)
            }
            WorkerPool.insideJob = true
            work(generation: generation & 0x7FFF_FFFF)
            WorkerPool.insideJob = false
            while finished.load(ordering: .acquiring) < chunks { spinHint() }
            job = nil
            return true
        }
    }

    /// Lets every worker return once it is idle (Parallel.configure replaces the pool). Runs only
    /// when no job is in flight: `owner` is held throughout.
    func shutDown() {
        owner.lock()
        defer { owner.unlock() }
        stopping.store(true, ordering: .releasing)
        let generation = (state.load(ordering: .relaxed) >> 32) &+ 1
        state.store((generation & 0x7FFF_FFFF) << 32 | 0xFFFF_FFFF, ordering: .releasing)   // no chunk claimable
        pthread_mutex_lock(&mutex)
        pthread_cond_broadcast(&condition)
        pthread_mutex_unlock(&mutex)
    }

    /// Claims and runs chunks of the job of `generation` until none are left.
    private func work(generation: Int) {
        while true {
            let s = state.load(ordering: .acquiring)
            guard s >> 32 == generation else { return }
            let index = s & 0xFFFF_FFFF
            guard index < chunkCount else { return }
            if state.compareExchange(expected: s, desired: s + 1, ordering: .acquiringAndReleasing).exchanged {
                job!(index)
                finished.add(1, ordering: .releasing)
            }
        }
    }

    private func workerLoop() {
        WorkerPool.insideJob = true   // kernels called from a worker run inline
        var seen = 0
        while true {
            var spins = 0
            while (state.load(ordering: .acquiring) >> 32) == seen {
                spins += 1
                if spins < spinLimit { spinHint(); continue }
                pthread_mutex_lock(&mutex)
                sleepers.add(1, ordering: .releasing)
                while (state.load(ordering: .acquiring) >> 32) == seen {
                    pthread_cond_wait(&condition, &mutex)
                }
                sleepers.subtract(1, ordering: .releasing)
                pthread_mutex_unlock(&mutex)
            }
            if stopping.load(ordering: .acquiring) { return }
            seen = state.load(ordering: .acquiring) >> 32
            work(generation: seen)
        }
    }

    nonisolated(unsafe) private static var insideJobKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Whether this thread is running a chunk (thread-local).
    static var insideJob: Bool {
        get { pthread_getspecific(insideJobKey) != nil }
        set { pthread_setspecific(insideJobKey, newValue ? UnsafeRawPointer(bitPattern: 1) : nil) }
    }
}

@inline(__always) private func spinHint() {
    // No portable pause instruction in Swift; a compiler barrier keeps the loop from being folded.
    _ = withUnsafeMutablePointer(to: &spinSink) { $0 }
}
nonisolated(unsafe) private var spinSink = 0
