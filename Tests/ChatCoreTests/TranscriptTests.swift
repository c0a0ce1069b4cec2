import Diffusion
import Foundation
import LLM
import XCTest
@testable import ChatCore

/// Scripts, the runner and the transcript writers; the golden test plays examples/demo.txt.
final class TranscriptTests: XCTestCase {
    // MARK: Parsing

    func testPlainTextScriptsHaveTurnsDirectivesBlocksAndComments() {
        let text = """
        # a comment
        /seed 7

          Hello there!  
        /image a red circle
        \"\"\"
        Summarise this:
          indented line
        \"\"\"
        # done\r
        /steps 12\r
        """
        let script = ChatScript.parse(text, format: .text)
        XCTAssertEqual(script.items, [
            .init(line: 2, kind: .directive(.seed(7), text: "/seed 7")),
            .init(line: 4, kind: .turn("Hello there!")),
            .init(line: 5, kind: .turn("/image a red circle")),
            .init(line: 6, kind: .turn("Summarise this:\n  indented line")),
            .init(line: 11, kind: .directive(.steps(12), text: "/steps 12")),
        ])
    }

    func testBadScriptLinesNameTheirLine() {
        let text = "hello\n/seed banana\n/save x.md\n/quit\n/wat\n\"\"\"\nnever closed"
        let script = ChatScript.parse(text, format: .text)
        let bad = script.items.compactMap { item -> (Int, String)? in
            if case .bad(let reason) = item.kind { return (item.line, reason) }
            return nil
        }
        XCTAssertEqual(bad.map(\.0), [2, 3, 4, 5, 6])
        XCTAssertTrue(bad[0].1.contains("banana"), bad[0].1)
        XCTAssertTrue(bad[1].1.contains("REPL command"), bad[1].1)
        XCTAssertTrue(bad[4].1.contains("no closing"), bad[4].1)
    }

    func testJSONLScripts() {
        let text = """
        {"role": "system", "content": "Be brief."}
        {"role":"user","content":"/seed 3"}

        {"role":"user","content":"Draw a cat"}
        {"role":"user","content":"line one\\nline two"}
        {"role":"assistant","content":"I am not allowed here"}
        {"role":"user"}
        {"role":"user","content":"   "}
        not json at all
        [1, 2]
        """
        let script = ChatScript.parse(text, path: "t.jsonl", format: .jsonl)
        XCTAssertEqual(Array(script.items.prefix(4)), [
            .init(line: 1, kind: .directive(.system("Be brief."), text: "/system Be brief.")),
            .init(line: 2, kind: .directive(.seed(3), text: "/seed 3")),
            .init(line: 4, kind: .turn("Draw a cat")),
            .init(line: 5, kind: .turn("line one\nline two")),
        ])
        let bad = script.items.dropFirst(4).map(\.line)
        XCTAssertEqual(bad, [6, 7, 8, 9, 10])
        for item in script.items.dropFirst(4) {
            guard case .bad = item.kind else { return XCTFail("line \(item.line) should be bad") }
        }
    }

    func testUnreadableScriptsAreErrors() throws {
        XCTAssertThrowsError(try ChatScript.load(path: "/nonexistent/script.txt"))
        let folder = TestModels.temporaryFolder()
        let binary = folder.appendingPathComponent("bad.txt")
        try Data([0xFF, 0xFE, 0x00, 0xC3]).write(to: binary)
        XCTAssertThrowsError(try ChatScript.load(path: binary.path)) { error in
            XCTAssertTrue("\(error)".contains("UTF-8"), "\(error)")
        }
    }

    // MARK: Running

    func testABadLineStopsTheRunOrIsSkippedWithKeepGoing() throws {
        let script = ChatScript.parse("/max-tokens 4\n/chat Hi\n/steps banana\n/chat Bye", path: "s.txt", format: .text)

        let stopping = TranscriptRunner().run(script, session: try TestModels.session(drawer: nil))
        XCTAssertEqual(stopping.entries.count, 3)
        XCTAssertTrue(stopping.stopped)
        XCTAssertFalse(stopping.succeeded)
        XCTAssertEqual(stopping.entries.last?.kind, .error)
        XCTAssertTrue(stopping.entries.last?.result?.hasPrefix("s.txt:3: ") == true, stopping.entries.last?.result ?? "")

        let going = TranscriptRunner(keepGoing: true).run(script, session: try TestModels.session(drawer: nil))
        XCTAssertEqual(going.entries.count, 4)
        XCTAssertFalse(going.stopped)
        XCTAssertFalse(going.succeeded, "one bad line fails the run even when it goes on")
        XCTAssertEqual(going.entries.last?.turn?.outcome, .replied)

        let clean = TranscriptRunner().run(ChatScript.parse("/max-tokens 4\n/chat Hi", format: .text),
                                           session: try TestModels.session(drawer: nil))
        XCTAssertTrue(clean.succeeded)
    }

    func testJSONLExamplePlaysWithItsSystemPrompt() throws {
        let session = try TestModels.session(drawer: TestModels.drawer(TestModels.tinySD))
        let script = try ChatScript.load(path: TestModels.root.appendingPathComponent("examples/demo.jsonl").path)
        let result = TranscriptRunner().run(script, session: session)
        XCTAssertTrue(result.succeeded, result.entries.compactMap { $0.turn?.error ?? ($0.kind == .error ? $0.result : nil) }.joined())
        XCTAssertEqual(session.settings.systemPrompt, "You are Easel, a friendly assistant that can also draw pictures.")
        XCTAssertEqual(result.entries.compactMap { $0.turn?.image?.caption },
                       ["a yellow star on a purple background", "a yellow star on a purple background, with a white background"])
    }

    // MARK: Golden

    /// Where `easel run examples/demo.txt --no-timings --sd-model Tests/DiffusionTests/Fixtures/tiny-sd`
    /// wrote its transcript, record and pictures (see Fixtures/README.md).
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/golden-demo")

    /// Plays examples/demo.txt as `easel run` does (default settings, then the script's directives) into `folder`.
    func playDemo(into folder: URL) throws -> (markdown: String, jsonl: String) {
        let chat = try TestModels.chat()
        var settings = SessionSettings()
        settings.seed = GenerateParameters().seed
        settings.outputFolder = folder
        let session = ChatSession(chat: chat, context: chat.model.makeContext(), router: try TestModels.router(),
                                  drawer: try TestModels.drawer(TestModels.tinySD), settings: settings)
        let script = try ChatScript.load(path: TestModels.root.appendingPathComponent("examples/demo.txt").path)
        let result = TranscriptRunner().run(script, session: session)
        XCTAssertTrue(result.succeeded)
        let writer = TranscriptWriter(header: "Script `demo.txt` · \(session.summary)", timings: false)
        return (writer.markdown(result.entries, title: "Easel transcript: demo", folder: folder),
                try writer.jsonl(result.entries, folder: folder))
    }

    func testDemoTranscriptReproducesTheGoldenOneByteForByte() throws {
        let golden = Self.golden
        let expectedMarkdown = try String(contentsOf: golden.appendingPathComponent("demo.md"), encoding: .utf8)
        let expectedRecord = try String(contentsOf: golden.appendingPathComponent("demo.jsonl"), encoding: .utf8)
        let first = TestModels.temporaryFolder(), second = TestModels.temporaryFolder()
        let a = try playDemo(into: first)
        assertSameText(a.markdown, expectedMarkdown, "demo.md")
        assertSameText(a.jsonl, expectedRecord, "demo.jsonl")

        // A second run in another folder: the same text and the same picture files, byte for byte.
        let b = try playDemo(into: second)
        XCTAssertEqual(a.markdown, b.markdown)
        XCTAssertEqual(a.jsonl, b.jsonl)
        let names = try FileManager.default.contentsOfDirectory(atPath: first.path).sorted()
        XCTAssertEqual(names, ["easel-00001.png", "easel-00002.png", "easel-00003.png"])
        for name in names {
            let mine = try Data(contentsOf: first.appendingPathComponent(name))
            XCTAssertEqual(mine, try Data(contentsOf: second.appendingPathComponent(name)), "\(name) differs between two runs")
            // Against the committed pictures: the same metadata and pixels (PNG bytes could differ with zlib's version).
            let goldenURL = golden.appendingPathComponent(name)
            XCTAssertEqual(try PNGChunks(mine).text, try PNGChunks(Data(contentsOf: goldenURL)).text, name)
            let p = try PNGCodec.decode(contentsOf: first.appendingPathComponent(name))
            let q = try PNGCodec.decode(contentsOf: goldenURL)
            XCTAssertEqual(p.pixels, q.pixels, "\(name): pixels differ from the golden picture")
        }
    }

    /// Equal texts, or a failure showing the first differing line.
    func assertSameText(_ actual: String, _ expected: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        guard actual != expected else { return }
        let a = actual.components(separatedBy: "\n"), e = expected.components(separatedBy: "\n")
        let i = zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, e.count)
        XCTFail("\(name) differs from the golden file at line \(i + 1):\n  got:      \(i < a.count ? a[i] : "<end>")\n  expected: \(i < e.count ? e[i] : "<end>")\n"
                + "(regenerate with the command in Tests/ChatCoreTests/Fixtures/README.md only if the change is intended)",
                file: file, line: line)
    }
}
