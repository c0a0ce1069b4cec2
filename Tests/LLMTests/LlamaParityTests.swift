import Foundation
import XCTest
@testable import LLM
import Tensors

/// Logits and last hidden states of tiny random LLaMAs against transformers (fixtures:
/// tools/make_llama_fixtures.py, transformers 5.24.0), through both the Hugging Face folder loader
/// and the GGUF loader (Q/K rows permuted as llama.cpp's converter stores them).
final class LlamaParityTests: XCTestCase {
    /// Float32 end to end; the differences are summation order (OpenBLAS vs torch) over ≤ 96-wide dots.
    static let float32Logits: Float = 1e-4

    struct Expected: Decodable {
        let input_ids: [Int]
        let logits: [[Float]]
        let last_hidden_state: [[Float]]
    }

    func expected(_ name: String) throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: fixtureURL("llama/\(name)/expected.json")))
    }

    func check(_ model: LlamaModel, _ e: Expected, label: String, chunk: Int = 256) throws {
        let context = model.makeContext(contextLength: 64, maxBatch: chunk, precision: .f32)
        let out = try model.forward(e.input_ids, context: context, outputs: [.allLogits, .hiddenStates, .lastLogits])
        assertClose(out.allLogits!.scalars, e.logits.flatMap { $0 }, tol: Self.float32Logits, label: "\(label) logits")
        assertClose(out.hiddenStates!.scalars, e.last_hidden_state.flatMap { $0 }, tol: Self.float32Logits, label: "\(label) hidden")
        assertClose(out.lastLogits!, e.logits.last!, tol: Self.float32Logits, label: "\(label) last logits")
    }

    func testHuggingFaceFoldersMatchTransformers() throws {
        for name in ["gqa-untied", "mha-tied", "rope-linear", "rope-llama3"] {
            let model = try LlamaModel.load(path: fixtureURL("llama/\(name)").path)
            XCTAssertEqual(model.format, .huggingFace)
            try check(model, try expected(name), label: name)
        }
    }

    func testGGUFWithPermutedRowsMatchesTransformers() throws {
        for name in ["gqa-untied", "mha-tied"] {
            let model = try LlamaModel.load(path: fixtureURL("llama/\(name)/model-f32.gguf").path)
            XCTAssertEqual(model.format, .gguf)
            try check(model, try expected(name), label: "\(name) gguf")
        }
    }

    func testChunkedPrefillAndTokenByTokenDecodeAgreeWithOneShot() throws {
        let model = try LlamaModel.load(path: fixtureURL("llama/gqa-untied").path)
        let e = try expected("gqa-untied")
        try check(model, e, label: "chunks of 3", chunk: 3)
        let context = model.makeContext(contextLength: 64, precision: .f32)
        var last: [Float] = []
        for id in e.input_ids { last = try model.forward([id], context: context).lastLogits! }
        assertClose(last, e.logits.last!, tol: Self.float32Logits, label: "token by token")
    }

    func testBadInputsThrowInsteadOfTrapping() throws {
        let model = try LlamaModel.load(path: fixtureURL("llama/mha-tied").path)
        let context = model.makeContext(contextLength: 8)
        XCTAssertThrowsError(try model.forward([], context: context)) { XCTAssertEqual($0 as? LLMError, .emptyInput) }
        XCTAssertThrowsError(try model.forward([96], context: context)) {
            XCTAssertEqual($0 as? LLMError, .tokenOutOfRange(token: 96, vocabularySize: 96))
        }
        XCTAssertThrowsError(try model.forward([-1], context: context))
        XCTAssertThrowsError(try model.forward(Array(repeating: 3, count: 9), context: context)) {
            XCTAssertEqual($0 as? LLMError, .contextOverflow(needed: 9, available: 8))
        }
        XCTAssertEqual(context.length, 0, "a rejected call must not touch the cache")
    }

    func testMissingFolderAndBadConfigAreClearErrors() throws {
        XCTAssertThrowsError(try LlamaModel.load(path: "/nonexistent/model")) {
            XCTAssertTrue("\($0)".contains("/nonexistent/model"), "\($0)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("easel-badcfg-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("{\"hidden_size\": 64}".utf8).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try LlamaModel.load(path: dir.path)) {
            XCTAssertTrue("\($0)".contains("config.json") && "\($0)".contains("num_attention_heads"), "\($0)")
        }
        try Data("not json".utf8).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try LlamaModel.load(path: dir.path)) { XCTAssertTrue("\($0)".contains("JSON"), "\($0)") }
    }
}
