import COpenBLAS

/// y[b, r] = Σ_k x[b, k] · W[r, k] for b < batch: every linear layer in Easel comes through here.
/// x is [batch, W.cols] and y is [batch, W.rows], both row-major and contiguous.
///
/// - Float32 weights go straight to OpenBLAS.
/// - Batches under `rowDotBatchLimit(cols:)` (`halfRowDotBatchLimit` for f16/bf16) use the row-dot kernels
///   on the stored blocks, rows split across threads. Quantized types first quantize x to 8-bit
///   blocks, as llama.cpp does, and multiply integers: one token reads the blocks directly
///   (VecDot.swift), several tokens share one decoding of each row (UnpackedRow.swift); f16 and
///   bf16 convert on the fly against f32 x.
/// - Interleaved matrices (WeightMatrix.interleaved, the LLaMA layers) take an 8-rows-at-once kernel
///   below rowDotBatchLimit and restore their stored blocks for panels (Interleaved.swift).
/// - Larger batches (prefill, diffusion) widen a panel of rows at a time into a scratch buffer and
///   multiply it with SGEMM: f32 activations, so results differ from llama.cpp's by its activation
///   quantization error, and no more than one panel of weights is ever dequantized.
///
/// Numerics against llama.cpp (QuantTests): per dot product, the 8-bit path equals ggml_vec_dot_* to
/// 3.3e-8 of Σ|W·x|, the f32 path differs by 3e-4 to 1e-3 (the activation rounding). Through a whole
/// model that rounding is chaotic: llama.cpp's own SmolLM2 Q4_1 first-step logits move by 0.54 between
/// batched and token-by-token prefill, so neither path (nor llama.cpp) reproduces them within 0.3.
public func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, batch: Int, _ y: UnsafeMutablePointer<Float>) {
    precondition(batch >= 0)
    guard batch > 0, w.rows > 0 else { return }
    precondition(w.type.isComputable, "\(w.type) weights cannot be multiplied (GGMLType.isComputable)")
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
    let limit = ActivationFormat(weights: w.type) == nil ? halfRowDotBatchLimit : rowDotBatchLimit(cols: w.cols)
    if batch < limit {
        if w.isInterleaved { matmulInterleavedByRowDots(w, x, batch: batch, y) } else { matmulByRowDots(w, x, batch: batch, y) }
    } else {
        matmulByPanels(w, x, batch: batch, y)
    }
}

/// Batches at or above this go through panels and SGEMM. Below it, a row is decoded once per batch
/// (UnpackedRow) and each token costs only its integer multiply-adds, while a panel widens every
/// weight to f32 for the whole batch. Short rows pay the dots' fixed costs (final reductions, tail
/// blocks) more often per weight, so they switch to SGEMM sooner. Measured prefill, 1 thread
/// (`easel bench llm`): SmolLM2 (576/1536 columns) 7 tokens 151 tok/s row dots vs 128 before them,
/// 12 tokens 196 panels vs 160 row dots; 7B-shaped (4096/11008 columns) 16 tokens, row dots
/// 3.5 (Q4_0) and 3.8 (Q4_K_M) tok/s vs panels 2.2 and 1.9.
func rowDotBatchLimit(cols: Int) -> Int { cols >= 2048 ? 32 : 8 }

/// f16/bf16 row dots convert every weight again for each batch row, as costly as the panel path's one
/// conversion, so only a single row (decoding) takes them.
let halfRowDotBatchLimit = 2

/// Rows per parallel chunk floor: below this a thread hand-off costs more than it saves.
let rowDotGrain = 16

func matmulByRowDots(_ w: WeightMatrix, _ x: UnsafePointer<Float>, batch: Int, _ y: UnsafeMutablePointer<Float>) {
    let rows = w.rows, cols = w.cols
    if let format = ActivationFormat(weights: w.type) {
        let act = QuantizedActivations(format: format, x: x, rows: batch, cols: cols)
        defer { act.deallocate() }
        let blocks = cols / w.type.blockSize
        let dot: (UnsafeRawPointer, ActivationRow, Int) -> Float
        switch w.type {
        case .q4_0: dot = { dotQ4_0($0, $1, blocks: $2) }
        case .q4_1: dot = { dotQ4_1($0, $1, blocks: $2) }
        case .q5_0: dot = { dotQ5_0($0, $1, blocks: $2) }
        case .q5_1: dot = { dotQ5_1($0, $1, blocks: $2) }
        case .q8_0: dot = { dotQ8_0($0, $1, blocks: $2) }
        case .q4_K: dot = { dotQ4_K($0, $1, blocks: $2) }
        case .q5_K: dot = { dotQ5_K($0, $1, blocks: $2) }
        case .q6_K: dot = { dotQ6_K($0, $1, blocks: $2) }
        default: preconditionFailure("no 8-bit dot kernel for \(w.type)")
        }
        if batch == 1 {
            Parallel.forRanges(rows, grain: rowDotGrain) { range in
                for r in range { y[r] = dot(w.row(r), act.row(0), blocks) }
            }
            return
        }
        // Several tokens: each row is decoded once into integers (UnpackedRow, in L1) and every
        // token's dot product reads those.
        Parallel.forRanges(rows, grain: rowDotGrain) { range in
            let unpacked = UnpackedRow(type: w.type, cols: cols)
            defer { unpacked.deallocate() }
            for r in range {
                unpacked.unpack(w.row(r))
                for b in 0..<batch { y[b * rows + r] = unpacked.dot(act.row(b)) }
            }
        }
        return
    }
    let dot: (UnsafeRawPointer, UnsafePointer<Float>, Int) -> Float
    switch w.type {
    case .f16: dot = { dotF16($0, $1, count: $2) }
    case .bf16: dot = { dotBF16($0, $1, count: $2) }
    default: preconditionFailure("no row-dot kernel for \(w.type)")
    }
    Parallel.forRanges(rows, grain: rowDotGrain) { range in
        for r in range {
            let row = w.row(r)
            for b in 0..<batch { y[b * rows + r] = dot(row, x + b * cols, cols) }
        }
    }
}

/// Floats of W widened per SGEMM call (8 MiB): 512 rows of a 4096-wide layer, 3640 of a 576-wide one
/// (every SmolLM2 layer but the output in one panel). Each panel alternates our dequantizing threads
/// with OpenBLAS's, whose workers spin for a while after a call and compete with ours, so fewer, larger
/// panels are faster (KernelBench, Q4_K 4096×4096 at batch 16: 140 ms in 256-row panels, 24-35 ms here).
let panelFloats = 2 << 20

/// Rows per panel for a `cols`-wide matrix: at least 16, so very wide rows still batch up.
func panelRows(cols: Int) -> Int { max(16, panelFloats / max(cols, 1)) }

func matmulByPanels(_ w: WeightMatrix, _ x: UnsafePointer<Float>, batch: Int, _ y: UnsafeMutablePointer<Float>) {
    // Interleaved matrices are widened whole 8-row groups at a time.
    let rowsPerPanel = min(w.isInterleaved ? panelRows(cols: w.cols) / interleavedGroupRows * interleavedGroupRows
                                           : panelRows(cols: w.cols), w.rows)
    let panel = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerPanel * w.cols)
    defer { panel.deallocate() }
    var r0 = 0
    while r0 < w.rows {
        let n = min(rowsPerPanel, w.rows - r0)
        if w.isInterleaved {
            dequantizeInterleavedRows(w, from: r0, count: n, panel)
        } else {
            Parallel.forRanges(n, grain: 8) { range in
                for r in range {
                    dequantizeRow(w.type, w.row(r0 + r), panel + r * w.cols, count: w.cols)
                }
            }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(n), Int32(w.cols),
                    1, x, Int32(w.cols), panel, Int32(w.cols), 0, y + r0, Int32(w.rows))
        r0 += n
    }
}
