/// Element types of stored weights, numbered as ggml numbers them (ggml.h `enum ggml_type`), so a GGUF
/// tensor's type field maps straight onto this enum. Safetensors' F32/F16/BF16 map onto the same cases.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case bf16 = 30

    /// Weights per block: 1 for plain floats, 32 for the legacy quants, 256 for the K-quants.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1: 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K: 256
        }
    }

    /// Bytes per block, from ggml-common.h's block structs.
    public var blockBytes: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q4_0: 2 + 16
        case .q4_1: 2 + 2 + 16
        case .q5_0: 2 + 4 + 16
        case .q5_1: 2 + 2 + 4 + 16
        case .q8_0: 2 + 32
        case .q8_1: 2 + 2 + 32
        case .q2_K: 256 / 16 + 256 / 4 + 2 + 2
        case .q3_K: 256 / 8 + 256 / 4 + 12 + 2
        case .q4_K: 2 + 2 + 12 + 256 / 2
        case .q5_K: 2 + 2 + 12 + 256 / 8 + 256 / 2
        case .q6_K: 256 / 2 + 256 / 4 + 256 / 16 + 2
        case .q8_K: 4 + 256 + 16 * 2
        }
    }

    public var description: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .bf16: "BF16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q8_0: "Q8_0"
        case .q8_1: "Q8_1"
        case .q2_K: "Q2_K"
        case .q3_K: "Q3_K"
        case .q4_K: "Q4_K"
        case .q5_K: "Q5_K"
        case .q6_K: "Q6_K"
        case .q8_K: "Q8_K"
        }
    }

    /// Bytes taken by `count` elements, or nil when `count` is not a whole number of blocks or the
    /// product overflows (a hostile file can claim any element count).
    public func byteCount(elements count: Int) -> Int? {
        guard count >= 0, count % blockSize == 0 else { return nil }
        let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }
}
