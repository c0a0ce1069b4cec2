import XCTest
@testable import ChatCore

/// Request phrasing off, follow-ups combined with the last caption: one assertion per phrasing.
final class CaptionExtractorTests: XCTestCase {
    let extractor = CaptionExtractor()

    /// First pictures: (request, caption).
    static let newRequests: [(String, String)] = [
        ("Draw a pizza on a table", "a pizza on a table"),
        ("Draw a pizza on a table.", "a pizza on a table"),
        ("draw me a picture of a cat", "a cat"),
        ("Could you draw me a cat, please?", "a cat"),
        ("can you paint a lighthouse at dusk", "a lighthouse at dusk"),
        ("please sketch a horse running on a beach", "a horse running on a beach"),
        ("I'd love to see a dragon flying over a castle at sunset!", "a dragon flying over a castle at sunset"),
        ("I’d love to see a dragon", "a dragon"),
        ("generate an image of a sunset over the sea", "a sunset over the sea"),
        ("Create an illustration of a fox reading a book", "a fox reading a book"),
        ("make me a logo for my bakery", "a logo for my bakery"),
        ("render a photo of a red sports car", "a red sports car"),
        ("show me a red fox in the snow", "a red fox in the snow"),
        ("can I get a picture of a sailboat", "a sailboat"),
        ("a picture of a mountain lake", "a mountain lake"),
        ("paint me a quick sketch of a teapot", "a teapot"),
        ("draw a red circle on a blue background pls", "a red circle on a blue background"),
        ("hey, draw a green star", "a green star"),
        ("ok now draw a yellow square", "a yellow square"),
        ("Draw the Eiffel Tower at night", "the Eiffel Tower at night"),
        ("generate a picture showing two cats playing chess", "two cats playing chess"),
        ("could you please create an image of a robot, thanks", "a robot"),
        ("make it blue", "blue"),
        ("paint the sky red", "the sky red"),
        // French, Spanish, German, Chinese: the router corpus's other languages.
        ("dessine-moi un dragon pour la couverture de mon livre", "un dragon pour la couverture de mon livre"),
        ("fais un dessin d'un chat qui lit", "un chat qui lit"),
        ("hazme un dibujo de un gato leyendo", "un gato leyendo"),
        ("dibuja un mapa de una isla del tesoro", "un mapa de una isla del tesoro"),
        ("muéstrame una imagen de cómo sería parís en el futuro", "cómo sería parís en el futuro"),
        ("quiero una imagen de un castillo en la niebla para mi libro", "un castillo en la niebla para mi libro"),
        ("zeichne mir einen Drachen für mein Buchcover", "einen Drachen für mein Buchcover"),
        ("generiere ein Bild von einem gemütlichen Café", "einem gemütlichen Café"),
        ("给我画个图：一只猫在读书", "一只猫在读书"),
        ("帮我画一只猫", "一只猫"),
        ("请生成一张可爱的小熊头像", "可爱的小熊头像"),
    ]

    /// Follow-ups after "a red circle on a blue background": (request, caption, kind).
    static let previous = "a red circle on a blue background"
    static let followUps: [(String, String, Caption.Kind)] = [
        ("make it green", "a green circle on a blue background", .edit),
        ("can it be pink?", "a pink circle on a blue background", .edit),
        ("how about a purple version", "a purple circle on a blue background", .edit),
        ("make the background yellow", "a red circle on a yellow background", .edit),
        ("change the background to white", "a red circle on a white background", .edit),
        ("the circle should be orange", "an orange circle on a blue background", .edit),
        ("same but at night", "a red circle on a blue background, at night", .edit),
        ("same scene but in winter", "a red circle on a blue background, in winter", .edit),
        ("another one, but bigger", "a red circle on a blue background, bigger", .edit),
        ("wow again, but bigger", "a red circle on a blue background, bigger", .edit),
        ("again, different colors", "a red circle on a blue background, different colors", .edit),
        ("now add a hat", "a red circle on a blue background, with a hat", .edit),
        ("add a rainbow in the background", "a red circle on a blue background, with a rainbow in the background", .edit),
        ("looks good, but can you add a dog", "a red circle on a blue background, with a dog", .edit),
        ("remove the background", "a red circle on a blue background, without the background", .edit),
        ("swap the circle for a star", "a red star on a blue background", .edit),
        ("can we have a square instead of the circle", "a red square on a blue background", .edit),
        ("make it look more realistic", "a red circle on a blue background, more realistic", .edit),
        ("hmm no, try making it brighter", "a red circle on a blue background, brighter", .edit),
        ("try it in watercolor instead", "a red circle on a blue background, in watercolor", .edit),
        ("now do it in pixel art", "a red circle on a blue background, in pixel art", .edit),
        ("what if it was made of glass", "a red circle on a blue background, made of glass", .edit),
        ("what about adding fireworks", "a red circle on a blue background, with fireworks", .edit),
        ("how about from the front", "a red circle on a blue background, from the front", .edit),
        ("let's see one from behind", "a red circle on a blue background, from behind", .edit),
        ("at night", "a red circle on a blue background, at night", .edit),
        ("closer", "a red circle on a blue background, closer", .edit),
        ("not quite, more green", "a red circle on a blue background, more green", .edit),
        ("this time make it tiny", "a red circle on a blue background, tiny", .edit),
        ("rends-la plus lumineuse", "a red circle on a blue background, plus lumineuse", .edit),
        ("hazla más oscura", "a red circle on a blue background, más oscura", .edit),
        ("mach sie heller", "a red circle on a blue background, heller", .edit),
        ("otra, pero en invierno", "a red circle on a blue background, en invierno", .edit),
        ("加一只小鸟", "a red circle on a blue background, with 小鸟", .edit),
        ("another one", previous, .again),
        ("Another one please!", previous, .again),
        ("one more", previous, .again),
        ("again", previous, .again),
        ("redo it please", previous, .again),
        ("2 more versions pls", previous, .again),
        ("give me two more like that", previous, .again),
        ("encore une autre", previous, .again),
        ("otra distinta", previous, .again),
        ("noch eine andere", previous, .again),
        ("再画一个", previous, .again),
        // A full new request after a picture starts a new caption.
        ("Draw a castle on a hill", "a castle on a hill", .new),
        ("now draw a green triangle", "a green triangle", .new),
        ("a fox in the snow", "a fox in the snow", .new),
    ]

    func testRequestPhrasingIsStrippedFromFirstPictures() {
        var failures: [String] = []
        for (request, expected) in Self.newRequests {
            let c = extractor.caption(for: request, previous: nil)
            if c.text != expected || c.kind != .new { failures.append("\(request) → \(c.text) (\(c.kind)), expected \(expected)") }
        }
        XCTAssertEqual(failures, [], "\(failures.count) of \(Self.newRequests.count) phrasings wrong:\n" + failures.joined(separator: "\n"))
    }

    func testFollowUpsCombineWithTheLastCaption() {
        var failures: [String] = []
        for (request, expected, kind) in Self.followUps {
            let c = extractor.caption(for: request, previous: Self.previous)
            if c.text != expected || c.kind != kind {
                failures.append("\(request) → \(c.text) (\(c.kind)), expected \(expected) (\(kind))")
            }
        }
        XCTAssertEqual(failures, [], "\(failures.count) of \(Self.followUps.count) follow-ups wrong:\n" + failures.joined(separator: "\n"))
    }

    func testEditsChain() {
        var caption = extractor.caption(for: "draw a pizza on a table", previous: nil).text
        caption = extractor.caption(for: "make it blue", previous: caption).text
        XCTAssertEqual(caption, "a pizza on a table, blue", "no colour in the caption: the colour is appended")
        caption = extractor.caption(for: "same but at night", previous: caption).text
        XCTAssertEqual(caption, "a pizza on a table, blue, at night")
        caption = extractor.caption(for: "swap the pizza for a cake", previous: caption).text
        XCTAssertEqual(caption, "a cake on a table, blue, at night")
    }

    func testNothingToDrawGivesAnEmptyCaption() {
        XCTAssertEqual(extractor.caption(for: "draw", previous: nil).text, "")
        XCTAssertEqual(extractor.caption(for: "please draw me a picture", previous: nil).text, "")
        XCTAssertEqual(extractor.caption(for: "another one", previous: nil), Caption("", kind: .again))
        XCTAssertEqual(extractor.caption(for: "   ", previous: nil).text, "")
    }

    func testCaptionsKeepTheUsersSpellingAndInnerPunctuation() {
        XCTAssertEqual(extractor.caption(for: "Draw São Paulo, at dawn, in the rain!", previous: nil).text, "São Paulo, at dawn, in the rain")
        XCTAssertEqual(extractor.caption(for: "draw a 🐱 on a 🛋️", previous: nil).text, "a 🐱 on a 🛋️")
    }
}
