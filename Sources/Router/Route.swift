/// What a user turn asks for: an image from the drawing model, or a text reply from the chat model.
public enum Route: String, Sendable, Codable, CaseIterable {
    case image
    case chat
}
