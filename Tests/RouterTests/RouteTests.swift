import XCTest
import Router

final class RouteTests: XCTestCase {
    func testRoutesHaveStableNames() {
        XCTAssertEqual(Route(rawValue: "image"), .image)
        XCTAssertEqual(Route(rawValue: "chat"), .chat)
        XCTAssertNil(Route(rawValue: "draw"))
    }
}
