import Diffusion
import Foundation

/// Saves a session's pictures in one folder as `easel-00001.png`, `easel-00002.png`, … (the names `easel draw` uses).
///
/// Names come from a counter, never from the user's text, so no message can choose a path. The next
/// number is one past the highest already in the folder, and the file is created exclusively
/// (`writePNG` refuses to replace one), so two sessions sharing a folder never overwrite each other:
/// a name taken in between is skipped. A counter rather than a timestamp keeps a scripted run's
/// file names, and so its transcript, the same from run to run.
public struct ImageStore: Sendable {
    public let folder: URL
    public static let prefix = "easel-"

    public init(folder: URL) { self.folder = folder }

    /// Writes `image` with its metadata chunks and returns the file's URL.
    public func save(_ drawn: DrawnImage) throws -> URL {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw ChatError.output(path: folder.path, reason: "cannot create the folder: \(error.localizedDescription)")
        }
        var number = nextNumber()
        for _ in 0..<1000 {
            let url = folder.appendingPathComponent(Self.fileName(number))
            do {
                try drawn.image.writePNG(to: url, text: drawn.metadata.textChunks)
                return url
            } catch DiffusionError.imageIO(_, let reason) where FileManager.default.fileExists(atPath: url.path) && reason.contains("exists") {
                number += 1   // taken since we looked
            }
        }
        throw ChatError.output(path: folder.path, reason: "no free picture name after 1000 tries")
    }

    static func fileName(_ number: Int) -> String {
        let digits = String(number)
        return prefix + String(repeating: "0", count: max(0, 5 - digits.count)) + digits + ".png"
    }

    /// One past the highest `easel-NNNNN.png` in the folder (1 in an empty or new folder).
    func nextNumber() -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let numbers = names.compactMap { name -> Int? in
            guard name.hasPrefix(Self.prefix), name.hasSuffix(".png") else { return nil }
            return Int(name.dropFirst(Self.prefix.count).dropLast(4))
        }
        return (numbers.max() ?? 0) + 1
    }
}
