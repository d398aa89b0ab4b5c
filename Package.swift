// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "swift-serve-tui",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "swift-serve-tui", targets: ["swift-serve-tui"]),
        .library(name: "ServeEngine", targets: ["ServeEngine"]),
        // For the fuzz harnesses in Fuzz/, a package of its own.
        .library(name: "ServeDashboard", targets: ["ServeDashboard"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
    ],
    targets: [
        // posix_spawn helpers glibc only declares under _GNU_SOURCE (pipe2, addchdir_np, addclosefrom_np).
        .target(name: "CProcessSpawn"),
        // openat2(2) with RESOLVE_BENEATH, which glibc does not wrap: file opens held beneath the root.
        .target(name: "COpenBeneath"),
        .target(
            name: "ServeEngine",
            dependencies: [
                "CProcessSpawn",
                "COpenBeneath",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Atomics", package: "swift-atomics"),
            ]
        ),
        // The system's ncursesw (wide characters); `libncurses-dev` on Debian/Ubuntu.
        .systemLibrary(
            name: "CNcurses",
            pkgConfig: "ncursesw",
            providers: [.apt(["libncurses-dev"]), .brew(["ncurses"])]
        ),
        .target(
            name: "ServeDashboard",
            dependencies: ["ServeEngine", "CNcurses"]
        ),
        // bench/run's reference row: NIO's floor per request (see bench/NIOFloor/main.swift).
        .executableTarget(
            name: "nio-floor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "bench/NIOFloor"
        ),
        .executableTarget(
            name: "swift-serve-tui",
            dependencies: [
                "ServeEngine",
                "ServeDashboard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ServeEngineTests",
            dependencies: [
                "ServeEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ServeDashboardTests",
            dependencies: ["ServeDashboard", "ServeEngine", .product(name: "DequeModule", package: "swift-collections")],
            exclude: ["Golden"]
        ),
        // Runs the built binary as a subprocess; `swift test` builds every target first.
        .testTarget(name: "SwiftServeTUITests"),
    ]
)
