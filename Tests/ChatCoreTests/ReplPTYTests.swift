import Foundation
import XCTest

/// `easel chat` driven through a pseudo-terminal: tmux runs the built binary in a detached pane, the
/// test types into it with `send-keys` and reads the screen with `capture-pane`. Skips when tmux or
/// the easel binary (built beside this test bundle by `swift build`/`swift test`) is missing.
final class ReplPTYTests: XCTestCase {
    struct Timeout: Error, CustomStringConvertible { var description: String }

    var socket = ""
    let session = "repl"

    override func tearDown() {
        if !socket.isEmpty { _ = try? tmux(["kill-server"]) }
    }

    /// The easel executable next to the test bundle (.build/release/easel).
    func easelBinary() throws -> String {
        let candidates = [
            Bundle(for: Self.self).bundleURL.deletingLastPathComponent().appendingPathComponent("easel").path,
            TestModels.root.appendingPathComponent(".build/release/easel").path,
        ]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("no easel binary at \(candidates): build the package first (swift build -c release)")
        }
        return found
    }

    func tmuxPath() throws -> String {
        guard let path = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("tmux is not installed (apt-get install tmux; scripts/setup.sh installs it)")
        }
        return path
    }

    /// Runs tmux with posix_spawn and waitpid. Not Foundation's Process: on Linux it learns that a child
    /// ended when a socket the child inherited closes, and the server `new-session` forks keeps it open.
    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("easel-tmux-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = [try tmuxPath(), "-L", socket] + arguments
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        guard spawned == 0 else { throw Timeout(description: "cannot start tmux: error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }

    func screen() throws -> String { try tmux(["capture-pane", "-p", "-J", "-S", "-500", "-t", session]) }

    func type(_ text: String) throws { try tmux(["send-keys", "-t", session, "-l", text]); try tmux(["send-keys", "-t", session, "Enter"]) }
    func key(_ name: String) throws { try tmux(["send-keys", "-t", session, name]) }

    /// Waits until `condition` holds for the screen; fails with the screen when it never does.
    func waitFor(_ what: String, timeout: Double = 90, _ condition: (String) -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if condition(last) { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw Timeout(description: "timed out waiting for \(what); the screen:\n\(last)")
    }

    /// The REPL is waiting at its prompt after `count` prompts have been shown.
    func promptCount(_ s: String) -> Int {
        s.components(separatedBy: "\n").filter { $0.hasPrefix("> ") || $0 == ">" }.count
    }

    func waitForPrompt(_ n: Int, _ what: String) throws {
        try waitFor(what) { s in
            let lines = s.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return self.promptCount(s) >= n && lines.last == ">"
        }
    }

    func testChatImageRouteCtrlCAndCtrlDThroughATerminal() throws {
        let binary = try easelBinary()
        _ = try tmuxPath()
        _ = try TestModels.chat()   // skips when the default chat model is missing
        socket = "easel-test-\(UUID().uuidString.prefix(8))"
        let folder = TestModels.temporaryFolder()
        let history = folder.appendingPathComponent("history").path
        let out = folder.appendingPathComponent("pictures").path
        // A colour terminal whatever the test runner's environment says (swift test may set NO_COLOR).
        let command = "cd '\(TestModels.root.path)' && env -u NO_COLOR EASEL_HISTORY='\(history)' TERM=xterm-256color COLORTERM=truecolor "
            + "'\(binary)' chat --sd-model '\(TestModels.tinySD.path)' --out '\(out)' --temperature 0 --max-tokens 24; "
            + "echo \"EXITED $?\"; sleep 120"
        try tmux(["new-session", "-d", "-s", session, "-x", "160", "-y", "50", command])

        try waitFor("start-up") { $0.contains("ready in") }
        let startup = try screen()
        XCTAssertTrue(startup.contains("chat model SmolLM2-135M-Instruct.Q4_1.gguf"), startup)
        XCTAssertTrue(startup.contains("drawing model tiny-sd"), startup)
        try waitForPrompt(1, "the first prompt")

        // A chat turn: routed, streamed, back at the prompt.
        try type("Hello! Who are you?")
        try waitForPrompt(2, "the chat reply")
        var s = try screen()
        let lines = s.components(separatedBy: "\n")
        let routed = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("· chat (p ") }, s)
        XCTAssertFalse(lines[routed + 1].trimmingCharacters(in: .whitespaces).isEmpty, "the reply follows the route: \(s)")
        XCTAssertFalse(lines[routed + 1].hasPrefix(">"), s)

        // An image turn: its path shown inline, with a preview.
        try type("Draw a red circle on a blue background")
        try waitForPrompt(3, "the picture")
        s = try screen()
        let picture = URL(fileURLWithPath: out).appendingPathComponent("easel-00001.png").path
        XCTAssertTrue(s.contains("· image (p "), s)
        XCTAssertTrue(s.contains("“a red circle on a blue background”"), s)
        XCTAssertTrue(s.contains(picture), "the path is printed: \(s)")
        XCTAssertTrue(s.contains("▀▀▀▀"), "a half-block preview: \(s)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: picture))

        // /route explains the last decision.
        try type("/route")
        try waitFor("the route report") { $0.contains("toward image:") && $0.contains("toward chat:") }
        try waitForPrompt(4, "the prompt after /route")
        XCTAssertTrue(try screen().contains("last routed turn: Draw a red circle on a blue background"))

        // Ctrl-C during a long picture stops it, saves nothing, and the REPL stays.
        try type("/steps 500")
        try waitForPrompt(5, "/steps")
        try type("/image a green star")
        try waitFor("the progress bar") { $0.contains("drawing [") && $0.contains("ETA") }
        try key("C-c")
        try waitFor("the stopped picture") { $0.contains("· picture stopped") }
        try waitForPrompt(6, "the prompt after Ctrl-C")
        XCTAssertFalse(FileManager.default.fileExists(atPath: URL(fileURLWithPath: out).appendingPathComponent("easel-00002.png").path))

        // Ctrl-C during a long reply stops it too.
        try type("/max-tokens 2000")
        try waitForPrompt(7, "/max-tokens")
        try type("/chat Write a very long story about a dragon and a knight.")
        try waitFor("the reply to start") { $0.contains("· chat (forced)") && $0.components(separatedBy: "· chat (forced)").last!.count > 40 }
        try key("C-c")
        try waitFor("the stopped reply") { $0.contains("· stopped") }
        try waitForPrompt(8, "the prompt after stopping the reply")

        // The session still works, then Ctrl-D leaves with status 0 and the history file has the lines.
        try type("/chat Say hi.")
        try waitForPrompt(9, "a turn after the cancellations")
        try key("C-d")
        try waitFor("the REPL to exit") { $0.contains("EXITED 0") }
        let saved = try String(contentsOfFile: history, encoding: .utf8)
        XCTAssertTrue(saved.contains("Draw a red circle on a blue background"), saved)
        XCTAssertTrue(saved.contains("/route"), saved)
    }
}
