import Foundation
import Tensors
import WeightIO
import XCTest

final class KeyRemapTests: XCTestCase {
    func testEachRuleAlone() {
        XCTAssertEqual(KeyRule.dropPrefix("text_model.").apply("text_model.encoder.x"), "encoder.x")
        XCTAssertEqual(KeyRule.dropPrefix("text_model.").apply("other.text_model.x"), "other.text_model.x")
        XCTAssertEqual(KeyRule.addPrefix("unet.").apply("conv_in.weight"), "unet.conv_in.weight")
        XCTAssertEqual(KeyRule.replace("self_attn.", "attention.").apply("a.self_attn.q.self_attn.k"), "a.attention.q.attention.k")
        XCTAssertEqual(KeyRule.replace("aa", "a").apply("aaaa"), "aa", "non-overlapping, left to right")
        XCTAssertEqual(KeyRule.replace("", "x").apply("key"), "key")
        XCTAssertEqual(KeyRule.replacePrefix("model.", "m.").apply("model.model.w"), "m.model.w")
        XCTAssertEqual(KeyRule.replaceSuffix(".gamma", ".weight").apply("norm.gamma"), "norm.weight")
        XCTAssertEqual(KeyRule.replaceSuffix(".gamma", ".weight").apply("gamma.norm"), "gamma.norm")
        XCTAssertEqual(KeyRule.keepPrefix("first_stage_model.").apply("first_stage_model.x"), "first_stage_model.x")
        XCTAssertNil(KeyRule.keepPrefix("first_stage_model.").apply("model.diffusion_model.x"))
        XCTAssertNil(KeyRule.skipPrefix("model_ema.").apply("model_ema.decay"))
        XCTAssertEqual(KeyRule.skipPrefix("model_ema.").apply("model.x"), "model.x")
    }

    /// Rules apply in order, each to the previous result (STYLE.md E4's CLIP rules).
    func testRulesApplyInOrder() {
        let clip = KeyRemap([.dropPrefix("text_model."), .replace("self_attn.", "attention."),
                             .replace("mlp.fc1", "linear1"), .replace("mlp.fc2", "linear2")])
        XCTAssertEqual(clip.apply("text_model.encoder.layers.0.self_attn.q_proj.weight"), "encoder.layers.0.attention.q_proj.weight")
        XCTAssertEqual(clip.apply("text_model.encoder.layers.3.mlp.fc2.bias"), "encoder.layers.3.linear2.bias")
        let order = KeyRemap([.replace("a", "b"), .replace("b", "c")])
        XCTAssertEqual(order.apply("a"), "c")
        let dropThenKeep = KeyRemap([.dropPrefix("cond_stage_model.transformer."), .keepPrefix("text_model.")])
        XCTAssertEqual(dropThenKeep.apply("cond_stage_model.transformer.text_model.x"), "text_model.x")
        XCTAssertNil(dropThenKeep.apply("first_stage_model.x"))
        XCTAssertEqual(KeyRemap([]).apply("unchanged"), "unchanged")
    }

    /// A single-file checkpoint seen as one sub-model under diffusers names.
    func testRemappedWeightsServesRenamedTensors() throws {
        let folder = makeTemporaryFolder()
        var w = SafetensorsWriter()
        w.addF32("first_stage_model.decoder.conv_in.weight", shape: [1, 2], values: [1, 2])
        w.addF32("first_stage_model.decoder.norm_out.gamma", shape: [2], values: [3, 4])
        w.addF32("model.diffusion_model.out.0.weight", shape: [1], values: [5])
        let path = folder.write(w.encoded(), to: "v1-5.safetensors")
        let vae = try RemappedWeights(try openWeights(path: path), rules: [
            .keepPrefix("first_stage_model."), .dropPrefix("first_stage_model."), .replaceSuffix(".gamma", ".weight"),
        ])
        XCTAssertEqual(vae.tensorNames, ["decoder.conv_in.weight", "decoder.norm_out.weight"])
        XCTAssertEqual(vae.path, path)
        XCTAssertEqual(vae.originalName(of: "decoder.norm_out.weight"), "first_stage_model.decoder.norm_out.gamma")
        XCTAssertEqual(vae.shape(of: "decoder.conv_in.weight"), [1, 2])
        XCTAssertEqual(vae.type(of: "decoder.conv_in.weight"), .f32)
        XCTAssertEqual(try vae.tensor("decoder.norm_out.weight").scalars, [3, 4])
        XCTAssertEqual(try vae.weightMatrix("decoder.conv_in.weight").cols, 2)
        XCTAssertFalse(vae.contains("model.diffusion_model.out.0.weight"))
        assertWeightIOError(try vae.tensor("out.0.weight"), file: path, mentions: "'out.0.weight' not found")
        assertWeightIOError(try vae.tensor("decoder.norm_out.weight", expectedShape: [3]),
                            file: path, mentions: "'decoder.norm_out.weight'")
    }

    func testRemappingTwoKeysOntoOneIsAnError() throws {
        let folder = makeTemporaryFolder()
        var w = SafetensorsWriter()
        w.addF32("a.weight", shape: [1], values: [1])
        w.addF32("b.weight", shape: [1], values: [2])
        let path = folder.write(w.encoded(), to: "clash.safetensors")
        assertWeightIOError(try RemappedWeights(try openWeights(path: path), rules: [.replace("a.", "b.")]),
                            file: path, mentions: "both 'a.weight' and 'b.weight'")
    }
}
