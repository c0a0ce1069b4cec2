import COpenBLAS
import Foundation

/// Shape of a 2-D convolution, with PyTorch's meaning. Padding is given per side because diffusers'
/// VAE encoder pads its stride-2 downsamplers asymmetrically (F.pad (0, 1, 0, 1), then padding 0).
public struct Conv2DGeometry: Sendable, Equatable {
    public var inChannels: Int, outChannels: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var stride: Int
    public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int

    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0) {
        self.init(inChannels: inChannels, outChannels: outChannels, kernelHeight: kernel, kernelWidth: kernel,
                  stride: stride, padTop: padding, padLeft: padding, padBottom: padding, padRight: padding)
    }

    public init(inChannels: Int, outChannels: Int, kernelHeight: Int, kernelWidth: Int, stride: Int,
                padTop: Int, padLeft: Int, padBottom: Int, padRight: Int) {
        precondition(inChannels > 0 && outChannels > 0 && kernelHeight > 0 && kernelWidth > 0 && stride > 0)
        precondition(padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0)
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth; self.stride = stride
        self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom; self.padRight = padRight
    }

    /// Columns of the weight matrix: I·kh·kw, PyTorch's [O, I, kh, kw] flattened per output channel.
    public var patchSize: Int { inChannels * kernelHeight * kernelWidth }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + padTop + padBottom - kernelHeight) / stride + 1, (width + padLeft + padRight - kernelWidth) / stride + 1)
    }

    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
    }
}

/// Reusable buffers for `conv2d`: the im2col patches and, for f16/bf16 weights, the widened weight.
/// One per model, grown on demand, so a UNet step allocates nothing after its first call.
public final class ConvScratch: @unchecked Sendable {
    var columns: UnsafeMutablePointer<Float>?
    var columnsCapacity = 0
    var weights: UnsafeMutablePointer<Float>?
    var weightsCapacity = 0
    var product: UnsafeMutablePointer<Float>?
    var productCapacity = 0

    public init() {}

    func product(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > productCapacity {
            product?.deallocate()
            product = .allocate(capacity: count)
            productCapacity = count
        }
        return product!
    }

    func columns(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > columnsCapacity {
            columns?.deallocate()
            columns = .allocate(capacity: count)
            columnsCapacity = count
        }
        return columns!
    }

    func weights(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > weightsCapacity {
            weights?.deallocate()
            weights = .allocate(capacity: count)
            weightsCapacity = count
        }
        return weights!
    }

    /// Frees the buffers (between images, when memory matters more than the next call's allocation).
    public func release() {
        columns?.deallocate(); columns = nil; columnsCapacity = 0
        weights?.deallocate(); weights = nil; weightsCapacity = 0
        product?.deallocate(); product = nil; productCapacity = 0
    }

    deinit { release() }
}

/// Largest im2col tile, in floats (32 MiB): a 512×512 VAE layer's full patch matrix would be over 1 GiB,
/// so the output pixels are covered in tiles of whole rows, each one SGEMM.
let maxColumnTile = 8 << 20

/// 2-D convolution in NCHW, the layout diffusers uses: input [batch, I, H, W], output [batch, O, outH, outW].
/// Each image is im2col'd into patches [I·kh·kw, pixels] (a tile of output rows at a time) and multiplied
/// by the weight [O, I·kh·kw] in one SGEMM, so the weight is used as stored ([O, I, kh, kw] row-major is
/// exactly that matrix) and the product lands in NCHW with no transpose. A 1×1 stride-1 convolution
/// multiplies the input itself. f16/bf16 weights are widened once per call into the scratch.
public func conv2d(_ input: UnsafePointer<Float>, batch: Int, height: Int, width: Int, weight: WeightMatrix,
                   bias: UnsafePointer<Float>?, geometry g: Conv2DGeometry, output: UnsafeMutablePointer<Float>,
                   scratch: ConvScratch) {
    precondition(weight.rows == g.outChannels && weight.cols == g.patchSize,
                 "conv weight \(weight.rows)x\(weight.cols) for geometry \(g)")
    let (outH, outW) = g.outputSize(height: height, width: width)
    precondition(outH > 0 && outW > 0, "conv output \(outH)x\(outW) from \(height)x\(width)")
    let pixels = outH * outW, k = g.patchSize, o = g.outChannels
    let w: UnsafePointer<Float>
    if weight.type == .f32 {
        w = weight.data.assumingMemoryBound(to: Float.self)
    } else {
        let wide = scratch.weights(o * k)
        Parallel.forRanges(o, grain: 16) { range in
            for r in range { dequantizeRow(weight.type, weight.row(r), wide + r * k, count: k) }
        }
        w = UnsafePointer(wide)
    }
    if batch > 1 && pixels < gatherBelowPixels && k * pixels * batch <= maxColumnTile {
        convGathered(input, batch: batch, height: height, width: width, weight: w, bias: bias, geometry: g,
                     outHeight: outH, outWidth: outW, output: output, scratch: scratch)
        return
    }
    for b in 0..<batch {
        let x = input + b * g.inChannels * height * width
        let y = output + b * o * pixels
        if g.isPointwise {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(o), Int32(pixels), Int32(k),
                        1, w, Int32(k), x, Int32(pixels), 0, y, Int32(pixels))
        } else {
            let rowsPerTile = max(1, min(outH, maxColumnTile / max(k * outW, 1)))
            let cols = scratch.columns(k * rowsPerTile * outW)
            var row0 = 0
            while row0 < outH {
                let rows = min(rowsPerTile, outH - row0)
                let n = rows * outW
                im2col(x, height: height, width: width, geometry: g, outWidth: outW, row0: row0, rows: rows, columns: cols)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(o), Int32(n), Int32(k),
                            1, w, Int32(k), cols, Int32(n), 0, y + row0 * outW, Int32(pixels))
                row0 += rows
            }
        }
        if let bias {
            Parallel.forRanges(o, grain: 8) { range in
                for c in range {
                    let v = bias[c], p = y + c * pixels
                    for i in 0..<pixels { p[i] += v }
                }
            }
        }
    }
}

/// Below this many output pixels per image, the images of a batch share one SGEMM: at SD's 8×8 and 16×16
/// levels a per-image product is too thin (N = 64) for the BLAS kernels to run at speed.
let gatherBelowPixels = 1024

/// One SGEMM for the whole batch: patches of every image side by side [I·kh·kw, batch·pixels], the product
/// [O, batch·pixels] then scattered to NCHW.
func convGathered(_ input: UnsafePointer<Float>, batch: Int, height: Int, width: Int, weight w: UnsafePointer<Float>,
                  bias: UnsafePointer<Float>?, geometry g: Conv2DGeometry, outHeight outH: Int, outWidth outW: Int,
                  output: UnsafeMutablePointer<Float>, scratch: ConvScratch) {
    let pixels = outH * outW, k = g.patchSize, o = g.outChannels, n = batch * pixels
    let cols = scratch.columns(k * n)
    for b in 0..<batch {
        let x = input + b * g.inChannels * height * width
        if g.isPointwise {
            for c in 0..<k { (cols + c * n + b * pixels).update(from: x + c * pixels, count: pixels) }
        } else {
            im2col(x, height: height, width: width, geometry: g, outWidth: outW, row0: 0, rows: outH,
                   columns: cols + b * pixels, rowStride: n)
        }
    }
    let product = scratch.product(o * n)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(o), Int32(n), Int32(k),
                1, w, Int32(k), cols, Int32(n), 0, product, Int32(n))
    Parallel.forRanges(o, grain: 8) { range in
        for c in range {
            let v = bias?[c] ?? 0
            for b in 0..<batch {
                let src = product + c * n + b * pixels, dst = output + (b * o + c) * pixels
                for i in 0..<pixels { dst[i] = src[i] + v }
            }
        }
    }
}

/// Patches of output rows row0..<row0+rows: columns[(c·kh + ky)·kw + kx][r·outW + ox] is the input pixel
/// under kernel tap (ky, kx) for output (row0 + r, ox), or 0 in the padding.
/// Each patch row is `rowStride` floats apart (default: rows·outW, packed).
func im2col(_ x: UnsafePointer<Float>, height: Int, width: Int, geometry g: Conv2DGeometry, outWidth outW: Int,
            row0: Int, rows: Int, columns: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
    let n = rowStride ?? rows * outW, kh = g.kernelHeight, kw = g.kernelWidth, s = g.stride
    Parallel.forRanges(g.inChannels, grain: 4) { range in
        for c in range {
            let plane = x + c * height * width
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let dst = columns + ((c * kh + ky) * kw + kx) * n
                    for r in 0..<rows {
                        let iy = (row0 + r) * s - g.padTop + ky
                        let d = dst + r * outW
                        guard iy >= 0 && iy < height else { d.update(repeating: 0, count: outW); continue }
                        let src = plane + iy * width
                        // Output columns whose input column ox·s − padLeft + kx lies inside the image.
                        let lo = max(0, (g.padLeft - kx + s - 1) / s)
                        let hi = min(outW, (width - 1 + g.padLeft - kx) / s + 1)
                        if lo >= hi { d.update(repeating: 0, count: outW); continue }
                        if lo > 0 { d.update(repeating: 0, count: lo) }
                        if s == 1 {
                            d.advanced(by: lo).update(from: src + (lo - g.padLeft + kx), count: hi - lo)
                        } else {
                            for ox in lo..<hi { d[ox] = src[ox * s - g.padLeft + kx] }
                        }
                        if hi < outW { (d + hi).update(repeating: 0, count: outW - hi) }
                    }
                }
            }
        }
    }
}
