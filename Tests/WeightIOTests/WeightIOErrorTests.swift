import XCTest
import WeightIO

final class WeightIOErrorTests: XCTestCase {
    func testErrorsNameTheFileAndTheTensor() {
        let e = WeightIOError.missingTensor(name: "blk.0.attn_q.weight", file: "m.gguf")
        XCTAssertEqual(e.description, "tensor 'blk.0.attn_q.weight' not found in m.gguf")
    }
}
