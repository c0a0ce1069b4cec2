import Foundation

/// Finds the router's training data at start-up, so neither the user nor the engine passes a path.
///
/// The corpus stays in the top-level `router-corpus/` folder (a SwiftPM resource must live inside its
/// target), and training from it takes milliseconds, so Easel trains at start-up rather than ship a
/// model that could drift from the corpus. The places, in order:
/// 1. `EASEL_ROUTER_MODEL`: a model saved by `easel router train --out FILE`;
/// 2. `EASEL_ROUTER_CORPUS`: a corpus folder or `.tsv` file;
/// 3. `router-corpus/` in the current directory or any parent of it;
/// 4. `router-corpus/` beside the executable or in any parent of its folder (`.build/release/easel`
///    finds the checkout's corpus).
/// A variable that is set but names nothing is an error, not a fall-through, so a typo is noticed.
public enum RouterLoader {
    public enum Source: Equatable, Sendable {
        case model(path: String)
        case corpus(path: String)
    }

    public static let corpusFolderName = "router-corpus"

    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment,
                              currentDirectory: String = FileManager.default.currentDirectoryPath,
                              executablePath: String? = Bundle.main.executablePath) throws -> Source {
        let fm = FileManager.default
        if let model = environment["EASEL_ROUTER_MODEL"], !model.isEmpty {
            guard fm.fileExists(atPath: model) else {
                throw RouterError.cannotRead(path: model, reason: "EASEL_ROUTER_MODEL names no file")
            }
            return .model(path: model)
        }
        if let corpus = environment["EASEL_ROUTER_CORPUS"], !corpus.isEmpty {
            guard fm.fileExists(atPath: corpus) else {
                throw RouterError.cannotRead(path: corpus, reason: "EASEL_ROUTER_CORPUS names no file or folder")
            }
            return .corpus(path: corpus)
        }
        var tried: [String] = []
        var starts = [currentDirectory]
        if let executablePath {
            starts.append(URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent().path)
        }
        for start in starts {
            var folder = URL(fileURLWithPath: start).standardizedFileURL
            while true {
                let candidate = folder.appendingPathComponent(corpusFolderName).path
                var isDirectory: ObjCBool = false
                if fm.fileExists(atPath: candidate, isDirectory: &isDirectory), isDirectory.boolValue {
                    return .corpus(path: candidate)
                }
                tried.append(candidate)
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { break }
                folder = parent
            }
        }
        throw RouterError.notFound(tried: ["$EASEL_ROUTER_MODEL (unset)", "$EASEL_ROUTER_CORPUS (unset)"] + tried)
    }

    /// Loads a saved model or trains on a corpus.
    public static func load(_ source: Source, imageThreshold: Double = NaiveBayesRouter.defaultImageThreshold,
                            alpha: Double = NaiveBayesRouter.defaultAlpha) throws -> NaiveBayesRouter {
        switch source {
        case .model(let path):
            return try NaiveBayesRouter(model: RouterModel.load(from: path), imageThreshold: imageThreshold, source: path)
        case .corpus(let path):
            return try NaiveBayesRouter.train(RouterCorpus.load(from: path), alpha: alpha, imageThreshold: imageThreshold)
        }
    }

    /// The engine's one call at start-up: locate, then load or train.
    public static func loadDefault(imageThreshold: Double = NaiveBayesRouter.defaultImageThreshold) throws -> NaiveBayesRouter {
        try load(locate(), imageThreshold: imageThreshold)
    }
}
