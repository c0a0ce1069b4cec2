/// Nearest-neighbour resize of NCHW planes, as `F.interpolate(mode="nearest")`: output pixel (y, x) takes
/// input (⌊y·inH/outH⌋, ⌊x·inW/outW⌋), the scale computed in float as torch does. Diffusers' Upsample2D
/// doubles (or, for odd skip sizes, matches the skip connection's size).
public func upsampleNearest(_ x: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
                            _ y: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int) {
    let sy = Float(height) / Float(outHeight), sx = Float(width) / Float(outWidth)
    let srcX = (0..<outWidth).map { min(Int(Float($0) * sx), width - 1) }
    let srcY = (0..<outHeight).map { min(Int(Float($0) * sy), height - 1) }
    Parallel.forRanges(planes, grain: 4) { range in
        srcX.withUnsafeBufferPointer { sxs in
            for p in range {
                let src = x + p * height * width, dst = y + p * outHeight * outWidth
                for oy in 0..<outHeight {
                    let row = src + srcY[oy] * width, d = dst + oy * outWidth
                    for ox in 0..<outWidth { d[ox] = row[sxs[ox]] }
                }
            }
        }
    }
}
