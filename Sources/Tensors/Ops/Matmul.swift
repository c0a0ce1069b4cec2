import COpenBLAS

/// y[b, r] = Σ_k x[b, k] · W[r, k] for b < batch: every linear layer in Easel comes through here.
/// x is [batch, W.cols] and y is [batch, W.rows], both row-major and contiguous.
///
/// Float32 weights go straight to OpenBLAS. Other types, for batches of `tileBatchThreshold` rows or
/// more, are widened a panel of rows at a time into a scratch buffer that is multiplied with SGEMM,
/// so a prefill never holds more than one panel of dequantized weights; smaller batches use the
/// row-dot kernels on the stored blocks.
public func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, batch: Int, _ y: UnsafeMutablePointer<Float>) {
    precondition(batch >= 0)
    guard batch > 0, w.rows > 0 else { return }
    if w.type == .f32 {
        let a = w.data.assumingMemoryBound(to: Float.self)
        if batch == 1 {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(w.rows), Int32(w.cols), 1, a, Int32(w.cols), x, 1, 0, y, 1)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(w.rows), Int32(w.cols),
                        1, x, Int32(w.cols), a, Int32(w.cols), 0, y, Int32(w.rows))
        }
        return
    }
    matmulByPanels(w, x, batch: batch, y)
}

/// Rows of W widened per SGEMM call: 256 rows of a 4096-wide layer is 4 MiB of scratch.
let panelRows = 256

func matmulByPanels(_ w: WeightMatrix, _ x: UnsafePointer<Float>, batch: Int, _ y: UnsafeMutablePointer<Float>) {
    let rowsPerPanel = min(panelRows, w.rows)
    let panel = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerPanel * w.cols)
    defer { panel.deallocate() }
    var r0 = 0
    while r0 < w.rows {
        let n = min(rowsPerPanel, w.rows - r0)
        Parallel.forRanges(n, grain: 8) { range in
            for r in range {
                dequantizeRow(w.type, w.row(r0 + r), panel + r * w.cols, count: w.cols)
            }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(n), Int32(w.cols),
                    1, x, Int32(w.cols), panel, Int32(w.cols), 0, y + r0, Int32(w.rows))
        r0 += n
    }
}
