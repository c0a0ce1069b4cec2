import XCTest
import LLM
import Foundation

final class ChatMessageTests: XCTestCase {
    func testChatMessageRoundTripsThroughJSONWithRoleNames() throws {
        let m = ChatMessage(role: .assistant, content: "hi")
        let data = try JSONEncoder().encode(m)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("\"assistant\""))
        XCTAssertEqual(try JSONDecoder().decode(ChatMessage.self, from: data), m)
    }
}
