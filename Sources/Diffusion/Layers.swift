// The torch.nn layers the SD v1 modules are built from, loaded from a WeightStore by checkpoint name.
import Foundation
import Tensors
import WeightIO

/// Everything that can go wrong building a pipeline, each case naming the file or key at fault.
public enum DiffusionError: Error, CustomStringConvertible, Equatable {
    case badConfig(path: String, reason: String)
    case unsupported(component: String, key: String, value: String)
    case badInput(String)
    case cancelled
    case imageIO(path: String, reason: String)

    public var description: String {
        switch self {
        case .badConfig(let p, let r): "\(p): \(r)"
        case .unsupported(let c, let k, let v): "\(c): \(k) = \(v) is not supported"
        case .badInput(let m): m
        case .cancelled: "generation cancelled"
        case .imageIO(let p, let r): "\(p): \(r)"
        }
    }
}

/// A WeightStore seen under a prefix ("unet.", "first_stage_model.", …) with an optional key rewrite for
/// checkpoints whose names differ from diffusers'. Every lookup checks the shape, so a wrong checkpoint
/// fails at load with the key, the file, and both shapes.
struct Weights {
    let store: WeightStore
    let prefix: String
    /// Maps a diffusers name (after the prefix) to the name in the store; identity for diffusers folders.
    let rename: (String) -> String

    init(_ store: WeightStore, prefix: String = "", rename: @escaping (String) -> String = { $0 }) {
        self.store = store
        self.prefix = prefix
        self.rename = rename
    }

    func scoped(_ more: String) -> Weights { Weights(store, prefix: prefix + more, rename: rename) }
    func key(_ name: String) -> String { rename(prefix + name) }

    func contains(_ name: String) -> Bool { store.contains(key(name)) }

    func tensor(_ name: String, _ shape: [Int]) throws -> Tensor {
        try store.tensor(key(name), expectedShape: shape)
    }

    func matrix(_ name: String, _ shape: [Int]) throws -> WeightMatrix {
        try store.weightMatrix(key(name), expectedShape: shape)
    }

    /// Some old checkpoints store 1×1 convolutions where diffusers has linear layers (the VAE attention's
    /// q/k/v/proj): accept [out, in, 1, 1] for [out, in].
    func linearMatrix(_ name: String, _ shape: [Int]) throws -> WeightMatrix {
        if let s = store.shape(of: key(name)), s == shape + [1, 1] { return try matrix(name, shape + [1, 1]) }
        return try matrix(name, shape)
    }
}

/// torch.nn.Linear: y = x·Wᵀ + b, rows of x in, rows of y out. W stays as stored (f32, f16 or bf16).
struct Linear {
    let weight: WeightMatrix   // [out, in]
    let bias: Tensor?          // [out]

    init(_ w: Weights, _ name: String, in inFeatures: Int, out outFeatures: Int, bias hasBias: Bool = true) throws {
        weight = try w.linearMatrix("\(name).weight", [outFeatures, inFeatures])
        bias = hasBias ? try w.tensor("\(name).bias", [outFeatures]) : nil
    }

    var inFeatures: Int { weight.cols }
    var outFeatures: Int { weight.rows }

    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, _ y: UnsafeMutablePointer<Float>) {
        matmul(weight, x, batch: rows, y)
        if let bias {
            let n = outFeatures, b = bias.data
            Parallel.forRanges(rows, grain: 64) { range in
                for r in range { addInPlace(y + r * n, b, count: n) }
            }
        }
    }

    /// x [rows, in] → new [rows, out].
    func callAsFunction(_ x: Tensor, rows: Int) -> Tensor {
        let y = Tensor(shape: [rows, outFeatures])
        self(x.data, rows: rows, y.data)
        return y
    }
}

/// torch.nn.Conv2d on NCHW tensors.
struct Conv2d {
    let weight: WeightMatrix   // [O, I·kh·kw]
    let bias: Tensor?
    let geometry: Conv2DGeometry

    init(_ w: Weights, _ name: String, in i: Int, out o: Int, kernel: Int, stride: Int = 1, padding: Int = 0) throws {
        try self.init(w, name, geometry: Conv2DGeometry(inChannels: i, outChannels: o, kernel: kernel, stride: stride, padding: padding))
    }

    init(_ w: Weights, _ name: String, geometry g: Conv2DGeometry) throws {
        weight = try w.matrix("\(name).weight", [g.outChannels, g.inChannels, g.kernelHeight, g.kernelWidth])
        bias = try w.tensor("\(name).bias", [g.outChannels])
        geometry = g
    }

    /// x [B, I, H, W] → [B, O, H', W'].
    func callAsFunction(_ x: Tensor, scratch: ConvScratch) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == geometry.inChannels, "conv input \(x.shape) for \(geometry)")
        let (oh, ow) = geometry.outputSize(height: x.shape[2], width: x.shape[3])
        let y = Tensor(shape: [x.shape[0], geometry.outChannels, oh, ow])
        conv2d(x.data, batch: x.shape[0], height: x.shape[2], width: x.shape[3], weight: weight, bias: bias?.data,
               geometry: geometry, output: y.data, scratch: scratch)
        return y
    }
}

/// torch.nn.GroupNorm with affine weights, optionally fused with the SiLU that follows it.
struct GroupNorm {
    let weight: Tensor, bias: Tensor
    let groups: Int
    let eps: Float

    init(_ w: Weights, _ name: String, channels: Int, groups: Int, eps: Float) throws {
        guard groups > 0, channels % groups == 0 else {
            throw DiffusionError.unsupported(component: w.key(name), key: "norm_num_groups",
                                             value: "\(groups) groups for \(channels) channels")
        }
        weight = try w.tensor("\(name).weight", [channels])
        bias = try w.tensor("\(name).bias", [channels])
        self.groups = groups
        self.eps = eps
    }

    func callAsFunction(_ x: Tensor, silu: Bool = false) -> Tensor {
        let y = Tensor(shape: x.shape)
        groupNorm(x.data, y.data, batch: x.shape[0], channels: x.shape[1], spatial: x.count / (x.shape[0] * x.shape[1]),
                  groups: groups, eps: eps, weight: weight.data, bias: bias.data, silu: silu)
        return y
    }
}

/// torch.nn.LayerNorm over the last dimension.
struct LayerNorm {
    let weight: Tensor, bias: Tensor
    let eps: Float

    init(_ w: Weights, _ name: String, dim: Int, eps: Float) throws {
        weight = try w.tensor("\(name).weight", [dim])
        bias = try w.tensor("\(name).bias", [dim])
        self.eps = eps
    }

    func callAsFunction(_ x: Tensor, rows: Int) -> Tensor {
        let y = Tensor(shape: x.shape)
        layerNorm(x.data, weight.data, bias.data, y.data, rows: rows, dim: weight.count, eps: eps)
        return y
    }
}

/// [B, C, N] ↔ [B, N, C] for each batch item: diffusers' `permute(0, 2, 3, 1)` between the NCHW convolutions
/// and the token-major transformer layers.
func transposeLastTwo(_ x: Tensor, batch: Int, rows: Int, cols: Int) -> Tensor {
    let y = Tensor(shape: [batch, cols, rows])
    Parallel.forRanges(batch * rows, grain: 16) { range in
        for br in range {
            let b = br / rows, r = br % rows
            let src = x.data + b * rows * cols + r * cols, dst = y.data + b * rows * cols + r
            for c in 0..<cols { dst[c * rows] = src[c] }
        }
    }
    return y
}

/// y = a + b elementwise (new tensor, a's shape).
func added(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.count == b.count, "add \(a.shape) + \(b.shape)")
    let y = a.clone()
    addInPlace(y.data, b.data, count: y.count)
    return y
}

/// Decodes a JSON config file into `T`, naming the file in any error.
func decodeConfig<T: Decodable>(_ type: T.Type, at url: URL) throws -> T {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
        throw DiffusionError.badConfig(path: url.path, reason: "cannot read: \(error.localizedDescription)")
    }
    do { return try JSONDecoder().decode(T.self, from: data) } catch let e as DecodingError {
        throw DiffusionError.badConfig(path: url.path, reason: describe(e))
    } catch {
        throw DiffusionError.badConfig(path: url.path, reason: "\(error)")
    }
}

func describe(_ e: DecodingError) -> String {
    func path(_ c: DecodingError.Context) -> String { c.codingPath.map(\.stringValue).joined(separator: ".") }
    switch e {
    case .typeMismatch(_, let c): return "wrong type at '\(path(c))': \(c.debugDescription)"
    case .valueNotFound(_, let c): return "missing value at '\(path(c))'"
    case .keyNotFound(let k, let c): return "missing key '\(([path(c)] + [k.stringValue]).filter { !$0.isEmpty }.joined(separator: "."))'"
    case .dataCorrupted(let c): return "invalid JSON at '\(path(c))': \(c.debugDescription)"
    @unknown default: return "\(e)"
    }
}

/// A config value that diffusers allows as one int or a per-block list (attention_head_dim, layers_per_block…).
enum IntOrList: Codable, Equatable, Sendable {
    case one(Int), list([Int])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Int.self) { self = .one(v) } else { self = .list(try c.decode([Int].self)) }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self { case .one(let v): try c.encode(v); case .list(let l): try c.encode(l) }
    }

    func values(count: Int) -> [Int] {
        switch self { case .one(let v): [Int](repeating: v, count: count); case .list(let l): l }
    }
}
