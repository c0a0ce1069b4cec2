import Tensors

/// One tensor's entry in a GGUF header, checked against the file when it was opened.
public struct GGUFTensorInfo: Equatable, Sendable {
    public let name: String
    /// ggml's `ne`: the fastest-varying dimension first (a [rows, cols] matrix is [cols, rows]).
    public let dimensions: [Int]
    public let type: GGMLType
    /// Absolute byte offset of the data in the file (the header's offset plus the data section's start).
    public let offset: Int
    public let byteCount: Int
    public let elementCount: Int

    /// PyTorch's row-major order: `dimensions` reversed.
    public var shape: [Int] { dimensions.reversed() }
}
