import XCTest
@testable import Router

/// The corpus in router-corpus/: loads, is valid line by line, is balanced, has no near-duplicates,
/// and its README's counts are true.
final class RouterCorpusTests: XCTestCase {
    static let minimumTurns = 1000
    /// The share of each route must lie within 50% ± this.
    static let balanceTolerance = 0.08
    /// Two turns with the same previous route whose word and bigram sets overlap this much (Jaccard)
    /// are near-duplicates.
    static let nearDuplicateJaccard = 0.8

    func loadCorpus() throws -> [LabelledTurn] { try RouterCorpus.load(from: RepositoryPaths.corpus) }

    func testCorpusLoadsAndIsLargeAndBalanced() throws {
        let turns = try loadCorpus()
        XCTAssertGreaterThanOrEqual(turns.count, Self.minimumTurns)
        let imageShare = Double(turns.count { $0.route == .image }) / Double(turns.count)
        XCTAssertEqual(imageShare, 0.5, accuracy: Self.balanceTolerance, "image share \(imageShare)")
    }

    func testEveryFileIsNamedForItsCategoryAndEveryLineIsValid() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: RepositoryPaths.corpus).filter { $0.hasSuffix(".tsv") }
        XCTAssertFalse(names.isEmpty)
        for name in names {
            let path = RepositoryPaths.corpus + "/" + name
            let turns = try RouterCorpus.load(from: path)
            let category = String(name.dropLast(4))
            for turn in turns {
                XCTAssertEqual(turn.category, category, turn.source)
                XCTAssertEqual(turn.text, turn.text.trimmingCharacters(in: .whitespaces), "stray spaces at \(turn.source)")
            }
        }
    }

    func testCorpusCoversTheCategoriesTheRouterIsJudgedOn() throws {
        let categories = Set(try loadCorpus().map(\.category))
        for required in ["image-direct", "image-indirect", "image-style", "image-scene", "image-followup",
                         "image-multilingual", "chat-hard-negative", "chat-question", "chat-code", "chat-math",
                         "chat-advice", "chat-smalltalk", "chat-followup", "chat-multilingual"] {
            XCTAssertTrue(categories.contains(required), "no \(required) turns")
        }
    }

    func testCorpusHasChineseSpanishFrenchAndGermanTurns() throws {
        let texts = try loadCorpus().map(\.text)
        XCTAssertGreaterThan(texts.count { $0.unicodeScalars.contains(where: Featurizer.isCJK) }, 100)
        for marker in ["dibuja", "dessine", "zeichne", "¿", "écris", "schreib"] {
            XCTAssertTrue(texts.contains { $0.lowercased().contains(marker) }, "no turn with '\(marker)'")
        }
    }

    func testCorpusHasNoDuplicatesOrNearDuplicates() throws {
        let turns = try loadCorpus()
        let featurizer = Featurizer()
        // Feature ids, sorted, per turn; the length feature is left out so short turns compare on words.
        var ids: [String: Int] = [:]
        let sets: [[Int]] = turns.map { turn in
            featurizer.features(of: turn.text).filter { !$0.hasPrefix("<len:") }
                .map { f in ids[f] ?? { ids[f] = ids.count; return ids.count - 1 }() }.sorted()
        }
        var found: [String] = []
        for i in turns.indices {
            for j in (i + 1)..<turns.count where turns[i].previous == turns[j].previous {
                let (a, b) = (sets[i], sets[j])
                var (x, y, common) = (0, 0, 0)
                while x < a.count, y < b.count {
                    if a[x] == b[y] { common += 1; x += 1; y += 1 } else if a[x] < b[y] { x += 1 } else { y += 1 }
                }
                let union = a.count + b.count - common
                if union == 0 || Double(common) / Double(union) >= Self.nearDuplicateJaccard {
                    found.append("\(turns[i].source) '\(turns[i].text)' ~ \(turns[j].source) '\(turns[j].text)'")
                }
            }
        }
        XCTAssertTrue(found.isEmpty, "near-duplicates:\n" + found.prefix(20).joined(separator: "\n"))
    }

    /// router-corpus/README.md lists each category's count as a table row "| `category` | N | …".
    func testReadmeCountsMatchTheCorpus() throws {
        let readme = try String(contentsOfFile: RepositoryPaths.corpus + "/README.md", encoding: .utf8)
        var documented: [String: Int] = [:]
        for line in readme.split(separator: "\n") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, cells[0].hasPrefix("`"), cells[0].hasSuffix("`"), let n = Int(cells[1]) else { continue }
            documented[String(cells[0].dropFirst().dropLast())] = n
        }
        var actual: [String: Int] = [:]
        for turn in try loadCorpus() { actual[turn.category, default: 0] += 1 }
        XCTAssertEqual(documented, actual, "update the table in router-corpus/README.md")
    }
}
