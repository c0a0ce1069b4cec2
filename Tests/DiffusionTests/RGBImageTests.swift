import XCTest
import Diffusion

final class RGBImageTests: XCTestCase {
    func testImageHoldsThreeBytesPerPixel() {
        let image = RGBImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(image.pixels.count, image.width * image.height * 3)
    }
}
