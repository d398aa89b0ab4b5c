// swift-tools-version: 6.1
// libFuzzer harnesses for the parsers and sanitisers of swift-serve-tui. A package of its own so
// `swift test` in the main package never builds it; `Fuzz/run` builds it with
// `--sanitize fuzzer --sanitize address` and runs each harness.
import PackageDescription

let engine = Target.Dependency.product(name: "ServeEngine", package: "swift-serve-tui")
let dashboard = Target.Dependency.product(name: "ServeDashboard", package: "swift-serve-tui")
let http = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")

let package = Package(
    name: "swift-serve-tui-fuzz",
    dependencies: [
        .package(name: "swift-serve-tui", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .target(name: "FuzzCheck"),
        .executableTarget(name: "fuzz-safe-path", dependencies: ["FuzzCheck", engine]),
        .executableTarget(name: "fuzz-byte-range", dependencies: ["FuzzCheck", engine, http]),
        .executableTarget(name: "fuzz-cgi-headers", dependencies: ["FuzzCheck", engine]),
        .executableTarget(name: "fuzz-terminal-text", dependencies: ["FuzzCheck", engine, dashboard]),
        .executableTarget(name: "fuzz-listing", dependencies: ["FuzzCheck", engine]),
        .executableTarget(name: "fuzz-header-values", dependencies: ["FuzzCheck", engine, http]),
    ]
)
