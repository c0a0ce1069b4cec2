import Tensors

/// A set of named tensors in one checkpoint (a GGUF file, a safetensors file, or a sharded
/// safetensors folder). Model code asks for tensors by their checkpoint name and never sees the
/// container format.
///
/// Shapes are in PyTorch's row-major order: the last dimension varies fastest. GGUF stores its
/// dimensions the other way round (ggml's `ne`, fastest first) and `GGUFFile` reverses them.
public protocol WeightStore: AnyObject {
    /// The file (or index file) the tensors come from; every error names it.
    var path: String { get }
    /// Tensor names in the order their data lies in the file(s).
    var tensorNames: [String] { get }
    func contains(_ name: String) -> Bool
    /// Row-major shape, or nil when there is no such tensor.
    func shape(of name: String) -> [Int]?
    /// Stored element type, or nil when there is no such tensor or Easel has no GGMLType for the
    /// stored type (a safetensors I64 tensor, say).
    func type(of name: String) -> GGMLType?
    /// The tensor as a 2-D matrix that points into the mapped file, without copying. A 2-D tensor
    /// [rows, cols] is taken as it is; a tensor of rank 3 or more is flattened to
    /// [shape[0], shape[1] * shape[2] * …], so a convolution weight [O, I, kh, kw] becomes
    /// O rows of I·kh·kw. Tensors of rank 0 or 1 are not matrices and are rejected, as is a type
    /// the kernels cannot multiply (`GGMLType.isComputable`).
    func weightMatrix(_ name: String) throws -> WeightMatrix
    /// The tensor widened to a new Float32 Tensor of the same shape, whatever its stored type.
    func tensor(_ name: String) throws -> Tensor
    /// As `tensor(_:)`, after checking the stored shape is `expectedShape`.
    func tensor(_ name: String, expectedShape: [Int]) throws -> Tensor
}

extension WeightStore {
    /// As `weightMatrix(_:)`, after checking the stored shape is `expectedShape` (e.g. [O, I, kh, kw]).
    public func weightMatrix(_ name: String, expectedShape: [Int]) throws -> WeightMatrix {
        guard let found = shape(of: name) else { throw WeightIOError.missingTensor(name: name, file: path) }
        guard found == expectedShape else {
            throw WeightIOError.shapeMismatch(name: name, file: path, expected: expectedShape, found: found)
        }
        return try weightMatrix(name)
    }
}

/// Where one tensor's bytes lie in a mapped file. Built by the parsers only after the offset, the
/// size and every dimension have been checked against the file, so reading `byteCount` bytes at
/// `offset` is always in bounds.
struct StoredTensor {
    let name: String
    let shape: [Int]
    /// nil when the file's type has no GGMLType case (then `typeName` says what it is).
    let type: GGMLType?
    let typeName: String
    /// Absolute byte offset in the file.
    let offset: Int
    let byteCount: Int
    let elementCount: Int
}

/// Element count of `shape`, or nil when a dimension is negative or the product of the non-zero
/// dimensions overflows (a hostile file can claim dimensions of 2^62).
func checkedElementCount(_ shape: [Int]) -> Int? {
    var nonZeroProduct = 1
    var hasZero = false
    for d in shape {
        guard d >= 0 else { return nil }
        if d == 0 { hasZero = true; continue }
        let (p, overflow) = nonZeroProduct.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        nonZeroProduct = p
    }
    return hasZero ? 0 : nonZeroProduct
}

/// Bytes owned by Easel: a copy of tensor data the mapping cannot hand out directly (misaligned
/// data, or an empty tensor with no address in the file). Kept alive as a WeightMatrix's owner.
final class HeapBytes: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(copying source: UnsafeRawBufferPointer) {
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(source.count, 1), alignment: 64)
        if let base = source.baseAddress, source.count > 0 {
            pointer.copyMemory(from: base, byteCount: source.count)
        }
    }
    deinit { pointer.deallocate() }
}

/// The shared reading logic of the stores: tensors out of one mapped file.
enum StoredTensorReader {
    /// Alignment the kernels assume for the first element: Float32 rows are handed to BLAS as
    /// `Float` pointers, and halves and quant blocks start with 16-bit fields.
    static func requiredAlignment(_ type: GGMLType) -> Int {
        type == .f32 ? MemoryLayout<Float>.alignment : MemoryLayout<UInt16>.alignment
    }

    static func weightMatrix(_ t: StoredTensor, in file: MappedFile) throws -> WeightMatrix {
        guard let type = t.type, type.isComputable else {
            throw WeightIOError.unsupportedType(name: t.name, file: file.path, type: t.typeName)
        }
        guard t.shape.count >= 2 else {
            throw WeightIOError.notAMatrix(name: t.name, file: file.path, shape: t.shape)
        }
        let rows = t.shape[0]
        guard let cols = checkedElementCount(Array(t.shape.dropFirst())), cols % type.blockSize == 0 else {
            throw WeightIOError.malformed(
                file: file.path, reason: "tensor '\(t.name)' of shape \(t.shape) has rows that are not whole \(type) blocks")
        }
        let bytes = try file.bytes(at: t.offset, count: t.byteCount)
        if let base = bytes.baseAddress, Int(bitPattern: base) % requiredAlignment(type) == 0 {
            return WeightMatrix(type: type, data: base, rows: rows, cols: cols, owner: file)
        }
        // Safetensors places data at 8 + header length, which a writer need not align: copy once.
        let copy = HeapBytes(copying: bytes)
        return WeightMatrix(type: type, data: UnsafeRawPointer(copy.pointer), rows: rows, cols: cols, owner: copy)
    }

    static func tensor(_ t: StoredTensor, in file: MappedFile) throws -> Tensor {
        guard let type = t.type, type.isComputable else {
            throw WeightIOError.unsupportedType(name: t.name, file: file.path, type: t.typeName)
        }
        let bytes = try file.bytes(at: t.offset, count: t.byteCount)
        let result = Tensor(shape: t.shape)
        guard t.elementCount > 0, let src = bytes.baseAddress else { return result }
        if type == .f32 {
            // A byte copy: the source need not be 4-byte aligned.
            UnsafeMutableRawPointer(result.data).copyMemory(from: src, byteCount: t.byteCount)
            return result
        }
        // Widen one innermost row at a time: a row is whole blocks (checked when the file was opened).
        let rowLength = t.shape.last ?? 1
        let rowBytes = rowLength / type.blockSize * type.blockBytes
        let rowCount = t.elementCount / rowLength
        for r in 0..<rowCount {
            dequantizeRow(type, src + r * rowBytes, result.data + r * rowLength, count: rowLength)
        }
        return result
    }

    static func tensor(_ t: StoredTensor, in file: MappedFile, expectedShape: [Int]) throws -> Tensor {
        guard t.shape == expectedShape else {
            throw WeightIOError.shapeMismatch(name: t.name, file: file.path, expected: expectedShape, found: t.shape)
        }
        return try tensor(t, in: file)
    }
}
