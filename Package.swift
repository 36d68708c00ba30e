// swift-tools-version:6.1
import PackageDescription

// Dependencies point one way:
// executables → BerthAPI → BerthEngine → (BerthRuntime, BerthStore) → BerthOCI → CSystemShims.
let package = Package(
    name: "Berth",
    products: [
        .executable(name: "berthd", targets: ["berthd"]),
        .executable(name: "berth-runtime", targets: ["berth-runtime"]),
        .executable(name: "berth-init", targets: ["berth-init"]),
        .executable(name: "berth-shim", targets: ["berth-shim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // Thin C wrappers for what Glibc does not expose (clone3, pivot_root, capset, libseccomp, ...).
        .target(name: "CSystemShims", linkerSettings: [.linkedLibrary("seccomp")]),
        // libarchive (tar, gzip, zstd) and libcrypto (sha256) for the image store.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // libsystemd's sd-journal, to read back the logs of containers on the journald driver.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(name: "BerthOCI"),
        .target(name: "BerthRuntime", dependencies: ["CSystemShims", "BerthOCI"]),
        .target(name: "BerthStore", dependencies: ["BerthOCI", "CArchive", "CCrypto", "CSystemShims"]),
        // Bridges, veths and addresses over netlink, IPAM, nftables rules, port proxies, embedded DNS.
        .target(name: "BerthNetwork", dependencies: ["CSystemShims"]),
        .target(
            name: "BerthEngine",
            dependencies: [
                "BerthOCI", "BerthRuntime", "BerthStore", "BerthNetwork", "CSystemShims", "CSystemd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BerthAPI",
            dependencies: [
                "BerthEngine", "BerthNetwork",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "berthd",
            dependencies: [
                "BerthAPI", "BerthEngine", "BerthNetwork", "BerthStore", "CSystemShims",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "berth-runtime", dependencies: ["BerthRuntime", "CSystemShims"]),
        // Bound into containers as /sbin/docker-init: it must not need the host's Swift libraries.
        .executableTarget(
            name: "berth-init",
            dependencies: ["CSystemShims"],
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        // One per running container: holds its stdio, writes its log, outlives berthd. Static and
        // Foundation-free, so that it costs well under 1 MiB of memory per container.
        .target(name: "BerthShimCore"),
        .executableTarget(
            name: "berth-shim",
            dependencies: ["BerthShimCore", "CSystemShims"],
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        .testTarget(name: "BerthShimTests", dependencies: ["BerthShimCore"]),
        .testTarget(name: "BerthRuntimeTests", dependencies: ["BerthRuntime", "BerthOCI"]),
        .testTarget(name: "BerthStoreTests", dependencies: ["BerthStore", "BerthOCI", "CSystemShims"]),
        .testTarget(name: "BerthAPITests", dependencies: ["BerthAPI", "BerthEngine"]),
        .testTarget(name: "BerthEngineTests", dependencies: ["BerthEngine", "BerthOCI"]),
        .testTarget(name: "BerthNetworkTests", dependencies: ["BerthNetwork"]),
        // The json-file log reader: decoding, tail, since/until, follow across rotation, framing.
        .testTarget(name: "BerthEngineLogTests", dependencies: ["BerthEngine"]),
        // Drives the built executables (berth-runtime, berthd) and the stock docker CLI, as root;
        // reads a private journald's journal with the engine's reader.
        .testTarget(name: "BerthIntegrationTests",
                    dependencies: ["BerthOCI", "BerthRuntime", "CSystemShims", "BerthEngine", "BerthShimCore"]),
    ]
)
