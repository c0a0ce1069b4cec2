// GGUF metadata values, after ggml/docs/gguf.md (`gguf_metadata_value_type`), GGUF versions 2 and 3.

/// One metadata value of a GGUF file. The cases are the 13 value types of the format; an array
/// holds values of one type (arrays of arrays are allowed).
public indirect enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), array([GGUFValue])
    case uint64(UInt64), int64(Int64), float64(Double)

    /// Any integer value as Int; nil for other types and for a UInt64 above Int.max.
    public var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// A float value, or an integer value as a Double (some converters write `rope.freq_base` as an integer).
    public var float: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: int.map(Double.init)
        }
    }

    public var string: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    public var array: [GGUFValue]? {
        if case .array(let v) = self { return v }
        return nil
    }

    /// An array whose every element is a string (a vocabulary, a merge list).
    public var stringArray: [String]? {
        guard let values = array else { return nil }
        var result: [String] = []
        result.reserveCapacity(values.count)
        for v in values {
            guard case .string(let s) = v else { return nil }
            result.append(s)
        }
        return result
    }

    /// An array whose every element is an integer that fits Int (token types, ids).
    public var intArray: [Int]? {
        guard let values = array else { return nil }
        var result: [Int] = []
        result.reserveCapacity(values.count)
        for v in values {
            guard let i = v.int else { return nil }
            result.append(i)
        }
        return result
    }

    /// An array of numbers as Float (token scores).
    public var floatArray: [Float]? {
        guard let values = array else { return nil }
        var result: [Float] = []
        result.reserveCapacity(values.count)
        for v in values {
            guard let f = v.float else { return nil }
            result.append(Float(f))
        }
        return result
    }

    /// The format's name for this value's type, for error messages.
    public var typeName: String {
        switch self {
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .uint32: "uint32"
        case .int32: "int32"
        case .float32: "float32"
        case .bool: "bool"
        case .string: "string"
        case .array: "array"
        case .uint64: "uint64"
        case .int64: "int64"
        case .float64: "float64"
        }
    }
}

/// The value-type codes of the format, as stored in the file.
enum GGUFValueType: UInt32 {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// The fewest bytes one value of this type takes in the file: bounds an array's element count
    /// by the bytes left before anything is allocated.
    var minimumByteCount: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string: 8           // the u64 length of an empty string
        case .array: 4 + 8        // element type and count of an empty array
        }
    }
}

extension GGUFFile {
    public func value(_ key: String) -> GGUFValue? { metadata[key] }
    public func int(_ key: String) -> Int? { metadata[key]?.int }
    public func float(_ key: String) -> Double? { metadata[key]?.float }
    public func string(_ key: String) -> String? { metadata[key]?.string }
    public func bool(_ key: String) -> Bool? { metadata[key]?.bool }
    public func array(_ key: String) -> [GGUFValue]? { metadata[key]?.array }
    public func stringArray(_ key: String) -> [String]? { metadata[key]?.stringArray }
    public func intArray(_ key: String) -> [Int]? { metadata[key]?.intArray }
    public func floatArray(_ key: String) -> [Float]? { metadata[key]?.floatArray }
    /// `general.architecture` ("llama"), the prefix of the model's hyperparameter keys.
    public var architecture: String? { string("general.architecture") }
}
