/// A 2-D weight [rows, cols] stored in any GGMLType, usually straight out of a memory-mapped file.
/// Row r starts at `data + r * rowBytes`; a row is a whole number of blocks. `owner` keeps the
/// mapping (or the heap copy) alive as long as the matrix is.
public struct WeightMatrix: @unchecked Sendable {
    public let type: GGMLType
    public let data: UnsafeRawPointer
    public let rows: Int
    public let cols: Int
    public let owner: AnyObject?

    public init(type: GGMLType, data: UnsafeRawPointer, rows: Int, cols: Int, owner: AnyObject?) {
        precondition(cols % type.blockSize == 0, "\(type) row of \(cols) is not whole blocks")
        self.type = type
        self.data = data
        self.rows = rows
        self.cols = cols
        self.owner = owner
    }

    /// A float32 matrix that owns a copy of `tensor` ([rows, cols]).
    public init(_ tensor: Tensor) {
        precondition(tensor.rank == 2, "WeightMatrix needs a 2-D tensor, got \(tensor.shape)")
        self.init(type: .f32, data: UnsafeRawPointer(tensor.data), rows: tensor.shape[0],
                  cols: tensor.shape[1], owner: tensor.storage)
    }

    public var rowBytes: Int { cols / type.blockSize * type.blockBytes }

    public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }
}
