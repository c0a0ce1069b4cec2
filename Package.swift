// swift-tools-version: 6.0
// Easel: one LLaMA that chats and, through adapters, encodes prompts for Stable Diffusion.
// Dependency direction: COpenBLAS → Tensors → WeightIO → {LLM, Diffusion(+CPNG)} → {ChatCore(+Router), Evaluation} → easel(+CReadline).
import PackageDescription

// Numeric code is 10-100x slower unoptimised: the README's test command builds in release with
// `-enable-testing`. Swift 5 language mode: the kernels pass raw pointers into concurrent loops, which Swift 6's
// strict sendability checking rejects without adding any safety here.
let swiftSettings: [SwiftSetting] = []

let package = Package(
    name: "Easel",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "easel", targets: ["easel"]),
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "WeightIO", targets: ["WeightIO"]),
        .library(name: "LLM", targets: ["LLM"]),
        .library(name: "Diffusion", targets: ["Diffusion"]),
        .library(name: "Router", targets: ["Router"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        .systemLibrary(name: "CReadline", path: "Sources/CReadline"),

        .target(name: "Tensors", dependencies: ["COpenBLAS"], swiftSettings: swiftSettings),
        .target(name: "WeightIO", dependencies: ["Tensors"], swiftSettings: swiftSettings),
        .target(name: "LLM", dependencies: ["Tensors", "WeightIO"], swiftSettings: swiftSettings),
        .target(name: "Diffusion", dependencies: ["Tensors", "WeightIO", "CPNG"], swiftSettings: swiftSettings),
        .target(name: "Router", swiftSettings: swiftSettings),
        .target(name: "Evaluation", dependencies: ["Diffusion"], swiftSettings: swiftSettings),
        .target(name: "ChatCore", dependencies: ["LLM", "Diffusion", "Router", "Tensors"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "easel",
            dependencies: [
                "Tensors", "WeightIO", "LLM", "Diffusion", "Router", "ChatCore", "Evaluation", "CReadline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings),

        .testTarget(name: "TensorsTests", dependencies: ["Tensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "WeightIOTests", dependencies: ["WeightIO"]),
        .testTarget(name: "LLMTests", dependencies: ["LLM"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DiffusionTests", dependencies: ["Diffusion"], resources: [.copy("Fixtures")]),
        .testTarget(name: "RouterTests", dependencies: ["Router"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ChatCoreTests", dependencies: ["ChatCore"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
