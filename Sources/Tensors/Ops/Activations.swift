import Foundation

/// SwiGLU gate of LLaMA's MLP: gate[i] = silu(gate[i]) * up[i].
public func siluMul(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
    Parallel.forRanges(count, grain: 4096) { range in
        for i in range {
            let g = gate[i]
            gate[i] = g / (1 + expf(-g)) * up[i]
        }
    }
}

public func silu(_ x: UnsafeMutablePointer<Float>, count: Int) {
    Parallel.forRanges(count, grain: 4096) { range in
        for i in range { x[i] = x[i] / (1 + expf(-x[i])) }
    }
}

/// y += x, elementwise.
public func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    var i = 0
    while i + 8 <= count {
        let a = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
        let b = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: a + b, as: SIMD8<Float>.self)
        i += 8
    }
    while i < count { y[i] += x[i]; i += 1 }
}
