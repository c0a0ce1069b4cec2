import XCTest
@testable import Router

final class FeaturizerTests: XCTestCase {
    let featurizer = Featurizer()

    func testWordsBigramsStartMarkAndLength() {
        XCTAssertEqual(featurizer.features(of: "Draw a CAT!"),
                       ["^ draw", "draw", "draw a", "a", "a cat", "cat", "<len:3-4>"])
    }

    func testAccentsFullWidthAndApostrophesAreNormalised() {
        XCTAssertEqual(featurizer.features(of: "Dibújame"), ["^ dibujame", "dibujame", "<len:1>"])
        XCTAssertEqual(featurizer.features(of: "dibu\u{301}jame"), featurizer.features(of: "dibújame"))
        XCTAssertEqual(featurizer.features(of: "Straße"), ["^ strasse", "strasse", "<len:1>"])
        XCTAssertEqual(featurizer.features(of: "ＤＲＡＷ？"), ["^ draw", "draw", "draw ?", "?", "<len:1>"])
        XCTAssertEqual(featurizer.features(of: "I'd"), ["^ i", "i", "i d", "d", "<len:2>"])
    }

    func testChineseGivesCharacterUnigramsAndBigrams() {
        XCTAssertEqual(featurizer.features(of: "画一只猫"),
                       ["^ 画", "画", "画一", "一", "一只", "只", "只猫", "猫", "<len:2>"])
    }

    func testMixedScriptsDoNotBridgeBigrams() {
        let f = featurizer.features(of: "帮我生成logo图")
        XCTAssertTrue(f.contains("logo"))
        XCTAssertFalse(f.contains { $0.contains("logo") && $0 != "logo" }, "\(f)")
        XCTAssertFalse(f.contains("成图"), "a CJK bigram spans the Latin word: \(f)")
    }

    func testEveryClauseStartsAfresh() {
        let f = featurizer.features(of: "what would it look like? show me. cool, draw it")
        XCTAssertTrue(f.contains("^ show"))
        XCTAssertTrue(f.contains("^ draw"))
        XCTAssertFalse(f.contains("cool draw"))
        XCTAssertTrue(featurizer.features(of: "好的，画出来").contains("^ 画"))
    }

    func testDigitsSymbolsAndEmoji() {
        let f = featurizer.features(of: "solve 3x + 12 = 48 🐸")
        XCTAssertTrue(f.contains("0"))
        XCTAssertTrue(f.contains("3x"))
        XCTAssertTrue(f.contains("+"))
        XCTAssertTrue(f.contains("="))
        XCTAssertTrue(f.contains("🐸"))
    }

    func testPreviousRouteIsConjoinedWithUnigramsAndTheStartMark() {
        XCTAssertEqual(featurizer.features(of: "make it blue", previous: .image),
                       ["^ make", "make", "make it", "it", "it blue", "blue", "<len:3-4>",
                        "<image> ^ make", "<image> make", "<image> it", "<image> blue", "<image> <len:3-4>"])
        XCTAssertEqual(featurizer.features(of: "shorter", previous: .chat),
                       ["^ shorter", "shorter", "<len:1>", "<chat> ^ shorter", "<chat> shorter", "<chat> <len:1>"])
        XCTAssertEqual(featurizer.features(of: "shorter", previous: nil), featurizer.features(of: "shorter"))
    }

    func testFeaturesAreDistinct() {
        let f = featurizer.features(of: "cat cat cat, cat")
        XCTAssertEqual(f, ["^ cat", "cat", "cat cat", "<len:3-4>"])
    }

    func testOnlyTheOpeningOfAHugeTurnIsRead() {
        let huge = String(repeating: "draw ", count: 50_000) + "zebra"
        XCTAssertFalse(featurizer.features(of: huge).contains("zebra"))
        XCTAssertTrue(featurizer.features(of: huge).contains("<len:17+>"))
    }

    func testEmptyAndSeparatorOnlyTextsHaveOnlyTheLengthFeature() {
        XCTAssertEqual(featurizer.features(of: ""), ["<len:0>"])
        XCTAssertEqual(featurizer.features(of: " \t\n\r,.!:"), ["<len:0>"])
        XCTAssertEqual(featurizer.features(of: "\u{0}\u{1}\u{7F}"), ["<len:0>"])
    }
}
