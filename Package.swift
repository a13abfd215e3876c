// swift-tools-version:6.0
// BinaryMoS simulator: a compact LLaMA-style transformer trained on the CPU,
// binarized by BinaryMoS and the methods it is measured against.
import PackageDescription

// Release builds target the machine they run on: without it Swift emits plain
// x86-64 (no AVX, FMA or POPCNT) and the kernels run 2-3x slower.
let native: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "native"], .when(configuration: .release))]

/// The report's chapters, in order: executable name and folder under Chapters/.
let chapters = [("first-look", "FirstLook"), ("binary-kernel", "BinaryKernel"), ("experts", "Experts"),
                ("regime", "Regime"), ("router", "Router"), ("memory-cost", "MemoryCost"), ("partial-binary", "PartialBinary"), ("codebook", "Codebook"),
                ("frontier", "Frontier")]

let package = Package(
    name: "BinaryMoS",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mos", targets: ["mos"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/JohnSundell/Ink", from: "0.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CGraphviz", pkgConfig: "libgvc",
                       providers: [.apt(["libgraphviz-dev"])]),
        .target(name: "CKernels"),
        .target(name: "Kernels", dependencies: ["CBLAS", "CKernels"], swiftSettings: native),
        .target(name: "Randomness"),
        .target(name: "Corpus", dependencies: ["Randomness"], swiftSettings: native),
        .target(name: "Files"),
        .target(name: "Transformer", dependencies: ["Kernels", "Corpus", "Files", "Randomness"], swiftSettings: native),
        .target(name: "Binarization", dependencies: ["Transformer", "Kernels", "Randomness"], swiftSettings: native),
        .target(name: "Notebook", dependencies: ["CGraphviz", "Files", .product(name: "Ink", package: "Ink")],
                swiftSettings: native),
        .target(name: "Experiments", dependencies: ["Binarization", "Notebook", "Files", "Transformer", "Corpus", "Kernels", "Randomness",
                                                    .product(name: "ArgumentParser", package: "swift-argument-parser")],
                swiftSettings: native),
        // The file readers as a fuzzer drives them (make fuzz); built normally, it replays inputs.
        .executableTarget(
            name: "fuzz-readers",
            dependencies: ["Binarization", "Corpus", "Experiments", "Kernels", "Randomness"],
            swiftSettings: native),
        .executableTarget(
            name: "mos",
            dependencies: ["Kernels", "Corpus", "Transformer", "Binarization", "Notebook", "Experiments", "Files",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: native),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "CKernels", "Randomness"]),
        .testTarget(name: "CorpusTests", dependencies: ["Corpus", "Randomness"]),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "Corpus", "Kernels", "Randomness"]),
        .testTarget(name: "BinarizationTests", dependencies: ["Binarization", "Transformer", "Kernels", "Corpus", "Randomness"]),
        .testTarget(name: "CLITests", dependencies: ["mos", "fuzz-readers", "Experiments"]),
        .testTarget(name: "NotebookTests", dependencies: ["Notebook", "Files"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Binarization"]),
    ] + chapters.map { name, folder in
        // Every chapter may use the whole library; its prose lives in Chapters/FOLDER/main.swift.
        .executableTarget(
            name: name,
            dependencies: ["Kernels", "Corpus", "Transformer", "Binarization", "Notebook", "Experiments", "Files",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Chapters/" + folder, swiftSettings: native)
    },
    swiftLanguageModes: [.v5]
)
