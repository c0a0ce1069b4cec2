import XCTest
@testable import Diffusion

/// Step counts whose timesteps would fall outside the noise table are refused, not read out of bounds.
final class SchedulerBoundsTests: XCTestCase {
    func testSD14PNDMAcceptsAllStepCountsUpTo999AndRefuses1000() throws {
        let config = SchedulerConfiguration.stableDiffusionV1
        XCTAssertNoThrow(try PNDMScheduler(config: config, stepCount: 999))
        XCTAssertThrowsError(try PNDMScheduler(config: config, stepCount: 1000)) { error in
            XCTAssertEqual(error as? SchedulerError,
                           .timestepOutOfRange(scheduler: "PNDMScheduler", stepCount: 1000, timestep: 1000, trainSteps: 1000))
            XCTAssertTrue("\(error)".contains("fewer steps"), "\(error)")
        }
        XCTAssertThrowsError(try DDIMScheduler(config: config, stepCount: 1000))
    }
}
