import Foundation

/// Sampling defaults a model was tuned for, from Easel's optional `easel.json` beside model_index.json:
/// diffusers folders carry none, and SD v1's guidance 7.5 washes out the colours of a small model such as
/// easel-mini (BENCHMARKS.md). Front ends use these when the user gives no value; an absent file means none.
public struct DrawingDefaults: Codable, Sendable, Equatable {
    public var guidanceScale: Float?

    public static let fileName = "easel.json"
    /// SD v1's own default, for models without an `easel.json`.
    public static let stableDiffusionGuidance: Float = 7.5

    enum CodingKeys: String, CodingKey { case guidanceScale = "guidance_scale" }

    public init(guidanceScale: Float? = nil) { self.guidanceScale = guidanceScale }

    public static func load(directory: URL) throws -> DrawingDefaults {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return DrawingDefaults() }
        let defaults = try decodeConfig(DrawingDefaults.self, at: url)
        if let g = defaults.guidanceScale, !(g.isFinite && g >= 0 && g <= 100) {
            throw DiffusionError.badConfig(path: url.path, reason: "guidance_scale must be in 0...100, got \(g)")
        }
        return defaults
    }

    /// The guidance a request without one should use.
    public var guidance: Float { guidanceScale ?? Self.stableDiffusionGuidance }
}
