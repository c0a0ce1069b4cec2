#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 2-D weight [rows, cols] stored in any GGMLType, usually straight out of a memory-mapped file.
/// Row r starts at `data + r * rowBytes`; a row is a whole number of blocks. `owner` keeps the
/// mapping (or the heap copy) alive as long as the matrix is.
///
/// An interleaved matrix (`interleaved(releasingSource:)`, Interleaved.swift) holds the same blocks
/// regrouped 8 rows at a time for the single-token kernels; only matmul reads it, and `row(_:)` is
/// not available on it.
public struct WeightMatrix: @unchecked Sendable {
    public let type: GGMLType
    public let data: UnsafeRawPointer
    public let rows: Int
    public let cols: Int
    public let owner: AnyObject?
    /// The blocks are in the 8-row interleaved layout of Interleaved.swift, not row after row.
    public let isInterleaved: Bool

    public init(type: GGMLType, data: UnsafeRawPointer, rows: Int, cols: Int, owner: AnyObject?) {
        self.init(type: type, data: data, rows: rows, cols: cols, owner: owner, isInterleaved: false)
    }

    init(type: GGMLType, data: UnsafeRawPointer, rows: Int, cols: Int, owner: AnyObject?, isInterleaved: Bool) {
        precondition(cols % type.blockSize == 0, "\(type) row of \(cols) is not whole blocks")
        self.type = type
        self.data = data
        self.rows = rows
        self.cols = cols
        self.owner = owner
        self.isInterleaved = isInterleaved
    }

    /// A float32 matrix that owns a copy of `tensor` ([rows, cols]).
    public init(_ tensor: Tensor) {
        precondition(tensor.rank == 2, "WeightMatrix needs a 2-D tensor, got \(tensor.shape)")
        self.init(type: .f32, data: UnsafeRawPointer(tensor.data), rows: tensor.shape[0],
                  cols: tensor.shape[1], owner: tensor.storage)
    }

    public var rowBytes: Int { cols / type.blockSize * type.blockBytes }

    public func row(_ r: Int) -> UnsafeRawPointer {
        precondition(!isInterleaved, "an interleaved WeightMatrix has no stored rows; only matmul reads it")
        return data + r * rowBytes
    }

    /// This matrix repacked into 8-row interleaved groups in a 64-byte-aligned heap copy, for faster
    /// single-token matmuls; itself when its type has no interleaved layout or its row count is not a
    /// multiple of 8. Matrices whose rows are looked up one by one (token embeddings) must stay as stored.
    ///
    /// `releasingSource`: the stored bytes are a read-only private file mapping (MappedFile) that
    /// nothing else reads. Their pages are then dropped (madvise MADV_DONTNEED) once copied: otherwise
    /// the copy and the file's pages both stay resident, and a 7B model would need twice its size in
    /// memory. A private file mapping that was never written refills a dropped page from the file if
    /// it is read again, so this loses nothing; on anonymous memory it would zero the pages, hence the
    /// flag, which only a loader that mapped the file can set.
    public func interleaved(releasingSource: Bool) -> WeightMatrix {
        interleaved(releasingSource: releasingSource, sliceBytes: 16 << 20)
    }

    /// `sliceBytes`: rows are copied and their source released about this many bytes at a time.
    func interleaved(releasingSource: Bool, sliceBytes: Int) -> WeightMatrix {
        guard !isInterleaved, hasInterleavedLayout(type), rows >= interleavedGroupRows,
              rows % interleavedGroupRows == 0 else { return self }
        let copy = AlignedBytes(count: rows * rowBytes)
        // In slices, each released once copied: a whole 7B output matrix (165 MB of Q6_K) copied
        // before its pages were dropped raised the peak RSS by about as much.
        let sliceRows = max(interleavedGroupRows, sliceBytes / max(rowBytes, 1) / interleavedGroupRows * interleavedGroupRows)
        var r0 = 0
        while r0 < rows {
            let n = min(sliceRows, rows - r0)
            interleaveRows(type, data + r0 * rowBytes, copy.pointer + r0 * rowBytes, rows: n, cols: cols)
            if releasingSource { releasePages(data + r0 * rowBytes, count: n * rowBytes) }
            r0 += n
        }
        return WeightMatrix(type: type, data: UnsafeRawPointer(copy.pointer), rows: rows, cols: cols, owner: copy,
                            isInterleaved: true)
    }
}

/// Drops the resident pages wholly inside [start, start + count) (see `interleaved(releasingSource:)`).
/// Pages shared with a neighbouring tensor stay, so that tensor is not read from the file again.
private func releasePages(_ start: UnsafeRawPointer, count: Int) {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    guard page > 0 else { return }
    let first = (Int(bitPattern: start) + page - 1) / page * page
    let end = (Int(bitPattern: start) + count) / page * page
    guard end > first, let p = UnsafeMutableRawPointer(bitPattern: first) else { return }
    _ = madvise(p, end - first, MADV_DONTNEED)   // advice only: on failure the pages simply stay
}
