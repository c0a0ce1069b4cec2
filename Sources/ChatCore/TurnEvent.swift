import Diffusion
import Foundation
import LLM
import Router

/// How a turn's route was chosen.
public struct RouteChoice: Sendable, Codable, Equatable {
    public var route: Route
    /// True for `/image …` and `/chat …`: the router was not asked.
    public var forced: Bool
    /// P(image) from the router; nil when forced.
    public var imageProbability: Double?
    /// The probability of the route taken; 1 when forced.
    public var probability: Double { forced ? 1 : (route == .image ? imageProbability! : 1 - imageProbability!) }
}

/// A saved picture.
public struct SavedImage: Sendable, Codable, Equatable {
    /// The file as the session names it: the output folder joined with the file name.
    public var path: String
    public var fileName: String
    public var caption: String
    public var seed: UInt64
    public var steps: Int
    public var guidance: Float
    public var scheduler: String
    public var width: Int
    public var height: Int
    public var seconds: Double
}

/// What a front end is told while a turn runs, in this order: `routed`, then for a text reply
/// `token`s, for a picture `caption`, `imageProgress`es and `imageSaved`; then `finished` (always,
/// last), preceded by `error` when the turn failed. The session is ready for the next turn after `finished`.
public enum TurnEvent: Sendable {
    case routed(RouteChoice)
    /// A piece of the reply: whole UTF-8 characters.
    case token(String)
    /// The caption an image turn will draw, shown before drawing starts.
    case caption(Caption)
    case imageProgress(step: Int, totalSteps: Int, elapsed: Double)
    case imageSaved(SavedImage)
    /// The turn failed; the conversation is as it was before it.
    case error(String)
    case finished(TurnRecord)
}

/// One turn, as the transcript and the JSONL record keep it.
public struct TurnRecord: Sendable, Codable, Equatable {
    public enum Outcome: String, Sendable, Codable {
        case replied, drew, cancelled, failed
    }
    public var user: String
    public var route: RouteChoice?
    public var outcome: Outcome
    public var reply: String?
    public var caption: Caption?
    public var image: SavedImage?
    public var error: String?
    /// The seed the turn sampled with (nil when it failed before sampling).
    public var seed: UInt64?
    public var stopReason: StopReason?
    public var promptTokens: Int?
    public var replyTokens: Int?
    /// Messages that no longer fit the context and were left out of this turn's prompt, from the start.
    public var droppedMessages: Int?
    public var timings: Timings

    public struct Timings: Sendable, Codable, Equatable {
        /// Enter to the first streamed token of a text reply.
        public var firstToken: Double?
        /// Enter to the picture on disk.
        public var image: Double?
        /// Enter to the end of the turn.
        public var total: Double = 0
    }

    public var succeeded: Bool { outcome == .replied || outcome == .drew }
}
