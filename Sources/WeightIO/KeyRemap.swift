import Tensors

/// One step in renaming a checkpoint's tensor keys to the names model code asks for. Rules are
/// applied in order, each to the result of the one before, so a list reads like the conversion
/// scripts it replaces (diffusers' `convert_original_stable_diffusion_to_diffusers.py`,
/// sd.cpp's `name_conversion.cpp`):
///
///     let vaeRules: [KeyRule] = [.keepPrefix("first_stage_model."), .dropPrefix("first_stage_model."),
///                                .replace("down.", "down_blocks."), .replace(".nin_shortcut.", ".conv_shortcut.")]
public enum KeyRule: Equatable, Sendable {
    /// Removes `prefix` from keys that start with it; other keys pass unchanged.
    case dropPrefix(String)
    /// Puts `prefix` in front of every key.
    case addPrefix(String)
    /// Replaces every occurrence of the first string with the second.
    case replace(String, String)
    /// Replaces `old` with `new` only at the start of the key.
    case replacePrefix(String, String)
    /// Replaces `old` with `new` only at the end of the key.
    case replaceSuffix(String, String)
    /// Drops keys that do not start with `prefix` (one sub-model out of a single-file checkpoint).
    case keepPrefix(String)
    /// Drops keys that start with `prefix` (EMA copies, optimizer state).
    case skipPrefix(String)

    /// The key after this rule, or nil when the rule drops it.
    public func apply(_ key: String) -> String? {
        switch self {
        case .dropPrefix(let p):
            return key.hasPrefix(p) ? String(key.dropFirst(p.count)) : key
        case .addPrefix(let p):
            return p + key
        case .replace(let old, let new):
            return old.isEmpty ? key : key.replacingAll(old, with: new)
        case .replacePrefix(let old, let new):
            return key.hasPrefix(old) ? new + key.dropFirst(old.count) : key
        case .replaceSuffix(let old, let new):
            return key.hasSuffix(old) ? key.dropLast(old.count) + new : key
        case .keepPrefix(let p):
            return key.hasPrefix(p) ? key : nil
        case .skipPrefix(let p):
            return key.hasPrefix(p) ? nil : key
        }
    }
}

/// An ordered list of rules.
public struct KeyRemap: Sendable {
    public let rules: [KeyRule]

    public init(_ rules: [KeyRule]) { self.rules = rules }

    /// `key` after every rule in order, or nil when a rule drops it.
    public func apply(_ key: String) -> String? {
        var result = key
        for rule in rules {
            guard let next = rule.apply(result) else { return nil }
            result = next
        }
        return result
    }
}

/// A store seen through a KeyRemap: asks for tensors by their new names. Two keys that land on
/// the same new name would make one of them unreachable, so that is an error naming both.
public final class RemappedWeights: WeightStore, @unchecked Sendable {
    public let base: WeightStore
    public let remap: KeyRemap
    public let tensorNames: [String]
    /// New name → the base store's name.
    private let sourceName: [String: String]

    public init(_ base: WeightStore, _ remap: KeyRemap) throws {
        self.base = base
        self.remap = remap
        var source: [String: String] = [:]
        var names: [String] = []
        for original in base.tensorNames {
            guard let renamed = remap.apply(original) else { continue }
            if let earlier = source.updateValue(original, forKey: renamed) {
                throw WeightIOError.malformed(
                    file: base.path, reason: "key remapping sends both '\(earlier)' and '\(original)' to '\(renamed)'")
            }
            names.append(renamed)
        }
        sourceName = source
        tensorNames = names
    }

    public convenience init(_ base: WeightStore, rules: [KeyRule]) throws {
        try self.init(base, KeyRemap(rules))
    }

    public var path: String { base.path }

    /// The base store's name for `name`, or nil.
    public func originalName(of name: String) -> String? { sourceName[name] }

    public func contains(_ name: String) -> Bool { sourceName[name] != nil }

    public func shape(of name: String) -> [Int]? { sourceName[name].flatMap { base.shape(of: $0) } }

    public func type(of name: String) -> GGMLType? { sourceName[name].flatMap { base.type(of: $0) } }

    public func weightMatrix(_ name: String) throws -> WeightMatrix { try base.weightMatrix(original(name)) }

    public func tensor(_ name: String) throws -> Tensor { try base.tensor(original(name)) }

    public func tensor(_ name: String, expectedShape: [Int]) throws -> Tensor {
        let source = try original(name)
        let found = base.shape(of: source) ?? []
        guard found == expectedShape else {
            throw WeightIOError.shapeMismatch(name: name, file: path, expected: expectedShape, found: found)
        }
        return try base.tensor(source)
    }

    private func original(_ name: String) throws -> String {
        guard let s = sourceName[name] else { throw WeightIOError.missingTensor(name: name, file: path) }
        return s
    }
}

extension String {
    /// Every non-overlapping occurrence of `old` replaced, left to right (Foundation-free).
    func replacingAll(_ old: String, with new: String) -> String {
        guard !old.isEmpty, contains(old) else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: old) {
            result += rest[..<range.lowerBound]
            result += new
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
