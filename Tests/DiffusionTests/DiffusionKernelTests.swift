import XCTest
import Tensors

/// The Stable Diffusion kernels against their scalar twins in Sources/Tensors/Reference/DiffusionReference.swift.
final class DiffusionKernelTests: XCTestCase {
    /// Deterministic values in [-1, 1): a cheap LCG, so the inputs are the same on every run.
    func values(_ n: Int, seed: UInt32) -> [Float] {
        var s = seed
        return (0..<n).map { _ in s = s &* 1_664_525 &+ 1_013_904_223; return Float(s >> 8) / Float(1 << 23) - 1 }
    }

    func runConv(_ g: Conv2DGeometry, batch: Int, height: Int, width: Int, half: Bool) -> ([Float], [Float]) {
        let x = values(batch * g.inChannels * height * width, seed: 1)
        var w = values(g.outChannels * g.patchSize, seed: 2)
        if half { w = w.map { Float(Float16($0)) } }
        let bias = values(g.outChannels, seed: 3)
        let (oh, ow) = g.outputSize(height: height, width: width)
        let input = Tensor(shape: [x.count], values: x)
        let out = Tensor(shape: [batch * g.outChannels * oh * ow])
        let b = Tensor(shape: [bias.count], values: bias)
        let scratch = ConvScratch()
        if half {
            let halves = w.map { Float16($0).bitPattern }
            halves.withUnsafeBytes { raw in
                let wm = WeightMatrix(type: .f16, data: raw.baseAddress!, rows: g.outChannels, cols: g.patchSize, owner: nil)
                conv2d(input.data, batch: batch, height: height, width: width, weight: wm, bias: b.data, geometry: g,
                       output: out.data, scratch: scratch)
            }
        } else {
            let wt = Tensor(shape: [g.outChannels, g.patchSize], values: w)
            conv2d(input.data, batch: batch, height: height, width: width, weight: WeightMatrix(wt), bias: b.data,
                   geometry: g, output: out.data, scratch: scratch)
        }
        let expected = Reference.conv2d(x, batch: batch, height: height, width: width, weight: w, bias: bias, geometry: g)
        return (out.scalars, expected)
    }

    func testConv3x3Padding1MatchesReference() {
        let (a, e) = runConv(Conv2DGeometry(inChannels: 5, outChannels: 7, kernel: 3, padding: 1), batch: 2, height: 9, width: 6, half: false)
        assertClose(a, e, tol: Tolerance.kernel, label: "conv 3x3")
    }

    func testConvStride2MatchesReference() {
        // UNet Downsample2D: 3×3, stride 2, padding 1; odd and even sizes.
        for (h, w) in [(8, 8), (7, 9)] {
            let (a, e) = runConv(Conv2DGeometry(inChannels: 4, outChannels: 6, kernel: 3, stride: 2, padding: 1), batch: 1, height: h, width: w, half: false)
            assertClose(a, e, tol: Tolerance.kernel, label: "conv stride 2 \(h)x\(w)")
        }
    }

    func testConvAsymmetricPaddingMatchesReference() {
        // VAE encoder Downsample2D: F.pad(x, (0, 1, 0, 1)) then 3×3 stride 2, padding 0.
        let g = Conv2DGeometry(inChannels: 3, outChannels: 5, kernelHeight: 3, kernelWidth: 3, stride: 2,
                               padTop: 0, padLeft: 0, padBottom: 1, padRight: 1)
        let (a, e) = runConv(g, batch: 2, height: 8, width: 10, half: false)
        assertClose(a, e, tol: Tolerance.kernel, label: "conv asymmetric pad")
    }

    func testPointwiseConvAndHalfWeightsMatchReference() {
        let (a, e) = runConv(Conv2DGeometry(inChannels: 16, outChannels: 8, kernel: 1), batch: 2, height: 5, width: 5, half: false)
        assertClose(a, e, tol: Tolerance.kernel, label: "conv 1x1")
        let (c, f) = runConv(Conv2DGeometry(inChannels: 6, outChannels: 4, kernel: 3, padding: 1), batch: 1, height: 6, width: 6, half: true)
        assertClose(c, f, tol: Tolerance.kernel, label: "conv f16 weights")
    }

    func testConvBatchPathsAgree() {
        // Small images share one SGEMM across the batch (gathered); large ones go image by image.
        for (h, w) in [(6, 5), (40, 30)] {
            for g in [Conv2DGeometry(inChannels: 3, outChannels: 4, kernel: 3, stride: 2, padding: 1),
                      Conv2DGeometry(inChannels: 3, outChannels: 4, kernel: 1)] {
                let (a, e) = runConv(g, batch: 3, height: h, width: w, half: true)
                assertClose(a, e, tol: Tolerance.kernel, label: "conv batch 3 \(h)x\(w) \(g.kernelHeight)x\(g.kernelWidth)")
            }
        }
    }

    func testConvTilesLargeImagesByRows() {
        // More patch values than one tile holds forces several SGEMMs per image.
        let g = Conv2DGeometry(inChannels: 32, outChannels: 2, kernel: 3, padding: 1)
        let (a, e) = runConv(g, batch: 1, height: 200, width: 160, half: false)
        XCTAssertGreaterThan(g.patchSize * 200 * 160, 8 << 20)
        assertClose(a, e, tol: Tolerance.kernel, label: "conv tiled")
    }

    func testGroupNormWithAndWithoutSiLUMatchesReference() {
        let (batch, channels, spatial, groups) = (2, 8, 13, 4)
        let x = values(batch * channels * spatial, seed: 5).map { $0 * 3 + 0.5 }
        let w = values(channels, seed: 6), b = values(channels, seed: 7)
        for silu in [false, true] {
            let out = Tensor(shape: [x.count])
            groupNorm(x, out.data, batch: batch, channels: channels, spatial: spatial, groups: groups, eps: 1e-6,
                      weight: w, bias: b, silu: silu)
            let expected = Reference.groupNorm(x, batch: batch, channels: channels, spatial: spatial, groups: groups,
                                               eps: 1e-6, weight: w, bias: b, silu: silu)
            assertClose(out.scalars, expected, tol: Tolerance.kernel, label: "groupNorm silu=\(silu)")
        }
    }

    func testAttentionMatchesReferenceForCrossSelfAndCausal() {
        let heads = 3, headDim = 5, dim = heads * headDim
        for (queries, keys, causal) in [(11, 11, false), (9, 77, false), (6, 6, true), (4, 100, false)] {
            let q = values(queries * dim, seed: 8), k = values(keys * dim, seed: 9), v = values(keys * dim, seed: 10)
            let out = Tensor(shape: [queries * dim])
            attention(q: q, qStride: dim, k: k, kStride: dim, v: v, vStride: dim, out: out.data, outStride: dim,
                      queries: queries, keys: keys, heads: heads, headDim: headDim, scale: 0.4, causal: causal,
                      scratch: AttentionScratch())
            let expected = Reference.attention(q: q, k: k, v: v, queries: queries, keys: keys, heads: heads,
                                               headDim: headDim, scale: 0.4, causal: causal)
            assertClose(out.scalars, expected, tol: Tolerance.kernel, label: "attention \(queries)x\(keys) causal=\(causal)")
        }
    }

    func testUpsampleNearestMatchesReference() {
        let x = values(3 * 4 * 5, seed: 11)
        for (oh, ow) in [(8, 10), (7, 9)] {
            let out = Tensor(shape: [3 * oh * ow])
            upsampleNearest(x, planes: 3, height: 4, width: 5, out.data, outHeight: oh, outWidth: ow)
            assertClose(out.scalars, Reference.upsampleNearest(x, planes: 3, height: 4, width: 5, outHeight: oh, outWidth: ow),
                        tol: 0, label: "upsample \(oh)x\(ow)")
        }
    }

    func testGELUVariantsMatchReference() {
        let x = values(1000, seed: 12).map { $0 * 6 }
        let a = Tensor(shape: [1000], values: x)
        gelu(a.data, count: 1000)
        assertClose(a.scalars, Reference.gelu(x), tol: 1e-6, label: "gelu")
        let b = Tensor(shape: [1000], values: x)
        quickGELU(b.data, count: 1000)
        assertClose(b.scalars, Reference.quickGELU(x), tol: 1e-6, label: "quick gelu")
        // GEGLU: hidden · gelu(gate) with the halves of one projection row.
        let rows = 3, inner = 4
        let p = values(rows * 2 * inner, seed: 13)
        let o = Tensor(shape: [rows * inner])
        geglu(p, rows: rows, inner: inner, o.data)
        var expected: [Float] = []
        for r in 0..<rows {
            let g = Reference.gelu(Array(p[(r * 2 * inner + inner)..<(r * 2 * inner + 2 * inner)]))
            for j in 0..<inner { expected.append(p[r * 2 * inner + j] * g[j]) }
        }
        assertClose(o.scalars, expected, tol: 1e-6, label: "geglu")
    }

    func testExp8IsAccurate() {
        let xs = stride(from: Float(-80), through: 80, by: 0.37).map { $0 }
        var i = 0
        while i + 8 <= xs.count {
            let v = exp8(SIMD8<Float>(xs[i..<(i + 8)]))
            for j in 0..<8 {
                let e = expf(xs[i + j])
                XCTAssertLessThanOrEqual(abs(v[j] - e) / e, 1e-6, "exp8(\(xs[i + j]))")
            }
            i += 8
        }
    }
}
