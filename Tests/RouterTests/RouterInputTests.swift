import Foundation
import XCTest
@testable import Router

/// Bad corpus lines, bad models, missing files and hostile turns: clear errors or a route, never a crash.
final class RouterInputTests: XCTestCase {
    static var shared: NaiveBayesRouter?

    func corpusRouter() throws -> NaiveBayesRouter {
        if let r = Self.shared { return r }
        let r = try NaiveBayesRouter.train(RouterCorpus.load(from: RepositoryPaths.corpus))
        Self.shared = r
        return r
    }

    func assertMalformed(_ text: String, line: Int, mentioning words: String,
                         file: StaticString = #filePath, sourceLine: UInt = #line) throws {
        let folder = try makeTemporaryFolder(self)
        let path = folder.appendingPathComponent("bad.tsv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RouterCorpus.load(from: path), file: file, line: sourceLine) { error in
            guard case .malformedLine(let f, let l, let reason)? = error as? RouterError else {
                return XCTFail("\(error)", file: file, line: sourceLine)
            }
            XCTAssertEqual(f, path, file: file, line: sourceLine)
            XCTAssertEqual(l, line, file: file, line: sourceLine)
            XCTAssertTrue(reason.contains(words), reason, file: file, line: sourceLine)
            XCTAssertTrue("\(error)".hasPrefix("\(path):\(line): "), "\(error)", file: file, line: sourceLine)
        }
    }

    func testMalformedCorpusLinesNameTheFileAndLine() throws {
        let good = "# comment\n\nimage\timage-direct\t-\tdraw a cat\n"
        try assertMalformed(good + "chat\tchat-question\t-\n", line: 4, mentioning: "4 tab-separated fields")
        try assertMalformed(good + "chat\tchat-question\t-\thi\textra\n", line: 4, mentioning: "found 5")
        try assertMalformed(good + "picture\timage-direct\t-\tdraw\n", line: 4, mentioning: "label 'picture'")
        try assertMalformed(good + "chat\timage-direct\t-\thi\n", line: 4, mentioning: "starting with 'chat-'")
        try assertMalformed(good + "chat\tchat-Question\t-\thi\n", line: 4, mentioning: "lower-case")
        try assertMalformed(good + "chat\tchat-question\tnone\thi\n", line: 4, mentioning: "previous route 'none'")
        try assertMalformed(good + "chat\tchat-question\t-\t   \n", line: 4, mentioning: "text is empty")
        try assertMalformed("image\timage-direct\t-\tdraw\r\nchat chat-question - hi\r\n", line: 2, mentioning: "found 1")
    }

    func testCRLFCommentsAndBlankLinesAreAccepted() throws {
        let turns = try RouterCorpus.parse("# c\r\n\r\nimage\timage-direct\timage\tmake it blue\r\nchat\tchat-x\t-\thi", file: "t.tsv")
        XCTAssertEqual(turns, [
            LabelledTurn(route: .image, category: "image-direct", previous: .image, text: "make it blue", source: "t.tsv:3"),
            LabelledTurn(route: .chat, category: "chat-x", previous: nil, text: "hi", source: "t.tsv:4"),
        ])
    }

    func testUnreadableAndEmptyCorporaAreReported() throws {
        let folder = try makeTemporaryFolder(self)
        XCTAssertThrowsError(try RouterCorpus.load(from: folder.path)) { error in
            XCTAssertEqual(error as? RouterError, .emptyCorpus(path: folder.path, reason: "the folder has no .tsv files"))
        }
        let latin1 = folder.appendingPathComponent("latin1.tsv")
        try Data([0x63, 0x68, 0x61, 0x74, 0x09, 0xFF, 0xFE]).write(to: latin1)
        XCTAssertThrowsError(try RouterCorpus.load(from: latin1.path)) { error in
            XCTAssertEqual(error as? RouterError, .cannotRead(path: latin1.path, reason: "the file is not UTF-8"))
        }
        let comments = folder.appendingPathComponent("comments.tsv")
        try "# only a comment\n".write(to: comments, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RouterCorpus.load(from: comments.path)) { error in
            XCTAssertEqual(error as? RouterError, .emptyCorpus(path: comments.path, reason: "no labelled lines"))
        }
        XCTAssertThrowsError(try RouterCorpus.load(from: folder.path + "/missing")) { error in
            XCTAssertEqual(error as? RouterError, .cannotRead(path: folder.path + "/missing", reason: "no such file or folder"))
        }
    }

    func testHostileTurnsAreRoutedWithoutCrashing() throws {
        let router = try corpusRouter()
        var generator = SplitMix64(seed: 42)
        let garbage = (0..<4096).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let inputs: [String] = [
            "", "   ", " \n\t\r ", String(repeating: "a", count: 100_000),
            String(repeating: "draw a cat in the rain ", count: 100_000 / 23),
            String(repeating: "画", count: 100_000), String(decoding: garbage, as: UTF8.self),
            "\u{0}\u{0}\u{0}", "🎨🎨🎨", "\u{301}\u{301}", "\u{FEFF}\u{200D}", String(repeating: "?", count: 5000),
        ]
        for input in inputs {
            for previous in [nil, Route.image, Route.chat] {
                let d = router.decide(input, previous: previous)
                XCTAssertTrue(d.imageProbability.isFinite && (0...1).contains(d.imageProbability), "\(input.prefix(20))")
                XCTAssertTrue(d.logOdds.isFinite)
            }
        }
    }

    func testEmptyTurnsWithNoContextGoToChat() throws {
        let router = try corpusRouter()
        XCTAssertEqual(router.decide("").route, .chat)
        XCTAssertEqual(router.decide("   \n").route, .chat)
    }

    func testSavedModelRoutesExactlyAsTheTrainedOne() throws {
        let router = try corpusRouter()
        let path = try makeTemporaryFolder(self).appendingPathComponent("router.json").path
        try router.model.save(to: path)
        let loaded = try RouterLoader.load(.model(path: path))
        XCTAssertEqual(loaded.model, router.model)
        for text in ["draw a fox", "make it blue", "how do I draw a cat?", "画一只猫", "who painted starry night"] {
            for previous in [nil, Route.image, Route.chat] {
                XCTAssertEqual(loaded.decide(text, previous: previous).logOdds, router.decide(text, previous: previous).logOdds)
            }
        }
    }

    func testMalformedModelsAreRefusedWithAReason() throws {
        let folder = try makeTemporaryFolder(self)
        let base = try corpusRouter().model
        func refuse(_ model: RouterModel, _ words: String) throws {
            let path = folder.appendingPathComponent("m.json").path
            try model.save(to: path)
            XCTAssertThrowsError(try RouterModel.load(from: path)) { error in
                guard case .malformedModel(let p, let reason)? = error as? RouterError else { return XCTFail("\(error)") }
                XCTAssertEqual(p, path)
                XCTAssertTrue(reason.contains(words), reason)
            }
        }
        var m = base; m.format = "something-else"; try refuse(m, "format")
        m = base; m.featurizerVersion += 1; try refuse(m, "retrain")
        m = base; m.alpha = -1; try refuse(m, "alpha")
        m = base; m.imageCounts.removeLast(); try refuse(m, "counts")
        m = base; m.chatCounts[0] = -3; try refuse(m, "outside")
        m = base; m.imageContexts = [1, 2]; try refuse(m, "3 counts")
        m = base; m.chatContexts[0] += 1; try refuse(m, "sum")
        m = base; m.features[1] = m.features[0]; try refuse(m, "twice")
        m = base; m.imageTurns = 0; m.imageContexts = [0, 0, 0]; m.imageCounts = m.imageCounts.map { _ in 0 }
        try refuse(m, "each route")

        let junk = folder.appendingPathComponent("junk.json")
        try Data("{\"format\": 3".utf8).write(to: junk)
        XCTAssertThrowsError(try RouterModel.load(from: junk.path)) { error in
            guard case .malformedModel(_, let reason)? = error as? RouterError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("not a router model JSON"), reason)
        }
        XCTAssertThrowsError(try RouterModel.load(from: folder.path + "/none.json")) { error in
            XCTAssertEqual(error as? RouterError, .cannotRead(path: folder.path + "/none.json", reason: "the file cannot be opened"))
        }
    }

    func testLoaderSearchesTheEnvironmentThenParentFolders() throws {
        let folder = try makeTemporaryFolder(self)
        let nested = folder.appendingPathComponent("a/b")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        XCTAssertThrowsError(try RouterLoader.locate(environment: [:], currentDirectory: nested.path, executablePath: nil)) { error in
            guard case .notFound(let tried)? = error as? RouterError else { return XCTFail("\(error)") }
            XCTAssertTrue(tried.contains(nested.appendingPathComponent("router-corpus").path), "\(tried)")
            XCTAssertTrue("\(error)".contains("EASEL_ROUTER_CORPUS"))
        }
        let corpus = folder.appendingPathComponent("router-corpus")
        try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
        XCTAssertEqual(try RouterLoader.locate(environment: [:], currentDirectory: nested.path, executablePath: nil),
                       .corpus(path: corpus.standardizedFileURL.path))
        XCTAssertEqual(try RouterLoader.locate(environment: [:], currentDirectory: "/", executablePath: nested.path + "/easel"),
                       .corpus(path: corpus.standardizedFileURL.path))
        XCTAssertEqual(try RouterLoader.locate(environment: ["EASEL_ROUTER_CORPUS": RepositoryPaths.corpus],
                                               currentDirectory: nested.path, executablePath: nil),
                       .corpus(path: RepositoryPaths.corpus))
        XCTAssertThrowsError(try RouterLoader.locate(environment: ["EASEL_ROUTER_CORPUS": folder.path + "/typo"],
                                                     currentDirectory: nested.path, executablePath: nil)) { error in
            XCTAssertEqual(error as? RouterError, .cannotRead(path: folder.path + "/typo", reason: "EASEL_ROUTER_CORPUS names no file or folder"))
        }
        XCTAssertThrowsError(try RouterLoader.locate(environment: ["EASEL_ROUTER_MODEL": folder.path + "/m.json"],
                                                     currentDirectory: nested.path, executablePath: nil)) { error in
            XCTAssertEqual(error as? RouterError, .cannotRead(path: folder.path + "/m.json", reason: "EASEL_ROUTER_MODEL names no file"))
        }
    }
}
