import Diffusion
import Foundation
import LLM
import Router
import XCTest
@testable import ChatCore

/// The real models the engine tests run: the default chat model (fetched by scripts/setup.sh, which
/// `make test` runs first), the router trained on router-corpus/, and the drawing models: easel-mini (the
/// default, committed in `easel-mini/`) and the tiny random-weight SD v1 folder of the Diffusion tests, a
/// real checkpoint of the real pipeline whose pictures are noise, where pixels do not matter.
enum TestModels {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let chatPath = root.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
    static let tinySD = root.appendingPathComponent("Tests/DiffusionTests/Fixtures/tiny-sd")
    /// The default drawing model, committed at the checkout's root.
    static let easelMini = root.appendingPathComponent("easel-mini")
    static let corpus = root.appendingPathComponent("router-corpus").path

    nonisolated(unsafe) static var chatModel: ChatModel?
    nonisolated(unsafe) static var routerModel: NaiveBayesRouter?
    nonisolated(unsafe) static var drawers: [String: StableDiffusionDrawer] = [:]

    static func chat() throws -> ChatModel {
        guard FileManager.default.fileExists(atPath: chatPath) else {
            throw XCTSkip("default chat model missing at \(chatPath): run scripts/setup.sh (make test does)")
        }
        if let m = chatModel { return m }
        let m = try ChatModel(path: chatPath)
        chatModel = m
        return m
    }

    static func router() throws -> NaiveBayesRouter {
        if let r = routerModel { return r }
        let r = try RouterLoader.load(.corpus(path: corpus))
        routerModel = r
        return r
    }

    static func drawer(_ directory: URL) throws -> StableDiffusionDrawer {
        if let d = drawers[directory.path] { return d }
        let d = StableDiffusionDrawer(pipeline: try StableDiffusionPipeline(directory: directory))
        drawers[directory.path] = d
        return d
    }

    static func easelMiniDrawer() throws -> StableDiffusionDrawer { try drawer(easelMini) }

    /// A fresh session on the shared models, saving pictures into a new temporary folder.
    static func session(drawer: (any ImageGenerating)?, contextLength: Int = 512, seed: UInt64 = 7,
                        maxTokens: Int = 64) throws -> ChatSession {
        let chat = try chat()
        var settings = SessionSettings()
        settings.sampling = .greedy
        settings.sampling.maxTokens = maxTokens
        settings.seed = seed
        settings.steps = 4
        settings.outputFolder = temporaryFolder()
        return ChatSession(chat: chat, context: chat.model.makeContext(contextLength: contextLength),
                           router: try router(), drawer: drawer, settings: settings)
    }

    static func temporaryFolder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("easel-chatcore-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A PNG read chunk by chunk, every CRC checked: enough to prove a file is a well-formed PNG and to
/// read its text chunks back without trusting the writer's own reader.
struct PNGChunks {
    struct Chunk { var type: String; var data: [UInt8] }
    var chunks: [Chunk] = []

    init(_ data: Data) throws {
        let bytes = [UInt8](data)
        let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw Problem("no PNG signature") }
        var i = 8
        while i < bytes.count {
            guard i + 12 <= bytes.count else { throw Problem("chunk header cut off at byte \(i)") }
            let length = Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            guard i + 12 + length <= bytes.count else { throw Problem("chunk at byte \(i) runs past the end") }
            let typeAndData = Array(bytes[(i + 4)..<(i + 8 + length)])
            let stored = UInt32(bytes[i + 8 + length]) << 24 | UInt32(bytes[i + 9 + length]) << 16
                | UInt32(bytes[i + 10 + length]) << 8 | UInt32(bytes[i + 11 + length])
            guard Self.crc32(typeAndData) == stored else { throw Problem("bad CRC in chunk at byte \(i)") }
            chunks.append(Chunk(type: String(decoding: typeAndData[0..<4], as: UTF8.self), data: Array(typeAndData[4...])))
            i += 12 + length
        }
        guard chunks.first?.type == "IHDR", chunks.last?.type == "IEND" else { throw Problem("not IHDR … IEND") }
    }

    var size: (width: Int, height: Int) {
        let d = chunks[0].data
        return (Int(d[0]) << 24 | Int(d[1]) << 16 | Int(d[2]) << 8 | Int(d[3]),
                Int(d[4]) << 24 | Int(d[5]) << 16 | Int(d[6]) << 8 | Int(d[7]))
    }

    /// tEXt chunks (Latin-1) and uncompressed iTXt chunks (UTF-8), by keyword.
    var text: [String: String] {
        var out: [String: String] = [:]
        for chunk in chunks {
            guard let zero = chunk.data.firstIndex(of: 0) else { continue }
            let key = String(decoding: chunk.data[..<zero], as: UTF8.self)
            if chunk.type == "tEXt" {
                out[key] = String(chunk.data[(zero + 1)...].map { Character(Unicode.Scalar($0)) })
            } else if chunk.type == "iTXt" {
                var rest = Array(chunk.data[(zero + 3)...])
                for _ in 0..<2 { if let z = rest.firstIndex(of: 0) { rest = Array(rest[(z + 1)...]) } }
                out[key] = String(decoding: rest, as: UTF8.self)
            }
        }
        return out
    }

    struct Problem: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }
}

/// Collects a turn's events for assertions.
final class EventLog {
    var events: [TurnEvent] = []
    func record(_ e: TurnEvent) { events.append(e) }

    var tokens: [String] { events.compactMap { if case .token(let t) = $0 { t } else { nil } } }
    var errors: [String] { events.compactMap { if case .error(let e) = $0 { e } else { nil } } }
    var progress: [Int] { events.compactMap { if case .imageProgress(let s, _, _) = $0 { s } else { nil } } }
    var route: RouteChoice? { events.lazy.compactMap { if case .routed(let r) = $0 { r } else { nil } }.first }
    var caption: Caption? { events.lazy.compactMap { if case .caption(let c) = $0 { c } else { nil } }.first }
    var saved: SavedImage? { events.lazy.compactMap { if case .imageSaved(let s) = $0 { s } else { nil } }.first }

    /// Short names in order: "routed", "token", …
    var names: [String] {
        events.map {
            switch $0 {
            case .routed: "routed"
            case .token: "token"
            case .caption: "caption"
            case .imageProgress: "progress"
            case .imageSaved: "saved"
            case .error: "error"
            case .finished: "finished"
            }
        }
    }
}
