// swift-tools-version:6.1
import PackageDescription

// Dependencies point one way:
// executables → BerthAPI → BerthEngine → (BerthRuntime, BerthStore) → BerthOCI → CSystemShims → CProcess.
// berth-shim stands apart: Embedded Swift over CBerthShim → CProcess (see its target).

/// berthd's own modules put each function in a section of its own in release builds, so
/// that the linker can gather the code berthd runs at start and on everyday requests
/// (Sources/berthd/hot-functions.order, made by scripts/gen-hot-functions) into few pages.
/// The kernel maps a binary's code 64 KiB or more at a time around each page first run:
/// with hot code spread over the whole binary, berthd's idle RSS held 15 of its 16 MiB of code.
let ownFunctionSections: [SwiftSetting] = [.unsafeFlags(["-Xfrontend", "-function-sections"], .when(configuration: .release))]

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
        // spawn, fd passing and wait status in C: shared by CSystemShims (which re-exports it) and berth-shim.
        .target(name: "CProcess"),
        // Thin C wrappers for what Glibc does not expose (clone3, pivot_root, capset, libseccomp, ...).
        .target(name: "CSystemShims", dependencies: ["CProcess"], linkerSettings: [.linkedLibrary("seccomp")]),
        // libarchive (tar, gzip, zstd) and nettle (sha256, already a dependency of libarchive) for the image store.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "nettle", providers: [.apt(["nettle-dev"])]),
        // libsystemd's sd-journal, loaded on first use, to read back the logs of containers on
        // the journald driver.
        .target(name: "CSystemd"),
        // libcurl (HTTP and TLS with the system's CA store) for pulls from registries, loaded on
        // the first pull: an idle berthd maps none of it.
        .target(name: "CCurl"),
        .target(name: "BerthOCI", swiftSettings: ownFunctionSections),
        .target(name: "BerthRuntime", dependencies: ["CSystemShims", "BerthOCI"], swiftSettings: ownFunctionSections),
        .target(name: "BerthStore", dependencies: ["BerthOCI", "CArchive", "CCrypto", "CSystemShims"], swiftSettings: ownFunctionSections),
        // Bridges, veths and addresses over netlink, IPAM, nftables rules, port proxies, embedded DNS.
        .target(name: "BerthNetwork", dependencies: ["BerthOCI", "CSystemShims"], swiftSettings: ownFunctionSections),
        .target(
            name: "BerthEngine",
            dependencies: [
                "BerthOCI", "BerthRuntime", "BerthStore", "BerthNetwork", "CSystemShims", "CSystemd", "CCurl",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: ownFunctionSections
        ),
        .target(
            name: "BerthAPI",
            dependencies: [
                "BerthEngine", "BerthNetwork", "CCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: ownFunctionSections
        ),
        .executableTarget(
            name: "berthd",
            dependencies: [
                "BerthAPI", "BerthEngine", "BerthNetwork", "BerthStore", "CSystemShims",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["hot-functions.order"],
            swiftSettings: ownFunctionSections,
            // The Swift libraries linked in, not loaded: the dynamic loader no longer resolves
            // their large symbol tables at start, and only the pages berthd uses are mapped
            // (idle RSS 25.6 → 22.9 MiB). lld lays the functions named in hot-functions.order
            // out first, together (see ownFunctionSections); a name it does not find is skipped.
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-Xlinker", "-l_FoundationCollections", "-Xlinker", "-l_FoundationCShims", "-Xlinker", "-lswiftSynchronization",
                                            "-use-ld=lld", "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Sources/berthd/hot-functions.order",
                                            "-Xlinker", "--no-warn-symbol-ordering", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic"])]
        ),
        // Runs once per container start and exec: a static executable starts without the dynamic
        // loader resolving and relocating the Swift and C++ libraries at every run (about 2 ms).
        .executableTarget(name: "berth-runtime", dependencies: ["BerthRuntime", "CSystemShims"],
                          linkerSettings: [.unsafeFlags(["-static-executable", "-Xlinker", "-l_FoundationCollections", "-Xlinker", "-l_FoundationCShims", "-Xlinker", "-lswiftSynchronization"])]),
        // Bound into containers as /sbin/docker-init: it must not need the host's Swift libraries.
        .executableTarget(
            name: "berth-init",
            dependencies: ["CSystemShims"],
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        // One per running container: holds its stdio, writes its log, outlives berthd. Embedded
        // Swift, statically linked: no Swift runtime or full stdlib to map, so that it costs
        // under 1 MiB of memory per container. Its libc comes through CBerthShim. Its pure
        // logic, BerthShimCore, is compiled into it through the symlink
        // Sources/berth-shim/BerthShimCore (an embedded module cannot be imported by the
        // ordinary test target, so the library target builds the same files for the tests).
        // zlib: the shim gzips rotated logs (json-file compress=true).
        .target(name: "CBerthShim", dependencies: ["CProcess"], linkerSettings: [.linkedLibrary("z")]),
        .target(name: "BerthShimCore", dependencies: ["CBerthShim"]),
        .executableTarget(
            name: "berth-shim",
            dependencies: ["CBerthShim"],
            swiftSettings: [
                .enableExperimentalFeature("Embedded"),
                // Embedded Swift needs whole-module compilation, in debug builds too. One section
                // per function, so that the linker drops what nothing calls: that includes the
                // Equatable of Request, there for the tests, whose String == would need the
                // Unicode tables (see ASCIIWords.swift).
                .unsafeFlags(["-wmo", "-Xfrontend", "-function-sections"]),
            ],
            // A plain static link: -static-executable would add the ordinary Swift runtime's
            // libraries. (clang is told not to warn about the -pie it then has no use for.)
            linkerSettings: [.unsafeFlags([
                "-Xclang-linker", "-static", "-Xclang-linker", "-Wno-unused-command-line-argument",
                "-Xlinker", "--gc-sections",
            ])]
        ),
        .testTarget(name: "BerthShimTests", dependencies: ["BerthShimCore"]),
        .testTarget(name: "BerthRuntimeTests", dependencies: ["BerthRuntime", "BerthOCI"]),
        .testTarget(name: "BerthStoreTests", dependencies: ["BerthStore", "BerthOCI", "CSystemShims"]),
        .testTarget(name: "BerthAPITests", dependencies: ["BerthAPI", "BerthEngine"]),
        .testTarget(name: "BerthEngineTests", dependencies: ["BerthEngine", "BerthOCI"]),
        .testTarget(name: "BerthNetworkTests", dependencies: ["BerthNetwork"]),
        // The log file reader (json-file and local): decoding, tail, since/until, follow across
        // rotation, framing; against the shim's record encoders.
        .testTarget(name: "BerthEngineLogTests", dependencies: ["BerthEngine", "BerthShimCore"]),
        // Drives the built executables (berth-runtime, berthd) and the stock docker CLI, as root;
        // reads a private journald's journal with the engine's reader.
        .testTarget(name: "BerthIntegrationTests",
                    dependencies: ["BerthOCI", "BerthRuntime", "CSystemShims", "BerthEngine", "BerthShimCore"]),
    ]
)
