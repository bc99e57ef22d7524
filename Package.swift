// swift-tools-version:6.0
import PackageDescription

/// One set of settings for every target: Swift 6 language mode, strict memory safety of the wire code
/// comes from bounds checks in the code itself, not from flags.
let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "jalm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "jalmd", targets: ["jalmd"]),
        .executable(name: "jalm", targets: ["jalm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/swiftwasm/WasmKit.git", from: "0.4.2"),
        // render-html: Mustache templates and Markdown.
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/JohnSundell/Ink.git", from: "0.6.0"),
    ],
    targets: [
        // Vocabulary: JSON values, frames and messages. No dependencies, no Foundation.
        .target(name: "JALMWire", swiftSettings: settings),
        // Pure decisions: the error type, supervision and retry state machines.
        .target(name: "JALMCore", dependencies: ["JALMWire"], swiftSettings: settings),
        // The expression language of `when` conditions and compute-script's `expr` op: pure, bounded.
        .target(name: "JALMExpr", dependencies: ["JALMWire"], swiftSettings: settings),
        // Documents: JSON or YAML bytes into one JSONValue, bounded (capsules, cards, configs, policies).
        .target(
            name: "JALMDocument",
            dependencies: ["JALMWire", "JALMCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: settings),
        // Capsules: parsing, validation against the catalog, templating (pure).
        .target(name: "JALMCapsule", dependencies: ["JALMWire", "JALMCore", "JALMExpr", "JALMDocument"], swiftSettings: settings),
        // OS primitives the kernel, the store and the plugins share: one thread wrapper, a condition lock,
        // clocks, the timer thread.
        .target(name: "JALMPlatform", swiftSettings: settings),
        // State: the SQLite store with group commit.
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "JALMStore", dependencies: ["CSQLite", "JALMWire", "JALMCore", "JALMPlatform"], swiftSettings: settings),
        // Effects: C shims for spawning, then layer processes (spawn, channels, health, swap, drain).
        // The engine: the pure execution machine over the event journal, and the runner around it.
        .target(
            name: "JALMEngine",
            dependencies: [
                "JALMWire", "JALMCore", "JALMExpr", "JALMCapsule", "JALMDocument", "JALMStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),
        .target(name: "CPosix"),
        .target(
            name: "JALMSupervisor",
            dependencies: [
                "JALMWire", "JALMCore", "JALMSandbox", "JALMPlatform", "CPosix", "CSeccomp",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings),
        // Wiring, configuration, reload, systemd, the engine's real ports, and the one facade the API talks to.
        .target(
            name: "JALMKernel",
            dependencies: [
                "JALMWire", "JALMCore", "JALMDocument", "JALMCapsule", "JALMEngine", "JALMStore", "JALMSandbox",
                "JALMPlatform", "JALMSupervisor",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings),
        // Edges: the HTTP API (TCP and Unix socket), the daemon, the CLI.
        .target(
            name: "JALMAPI",
            dependencies: [
                "JALMKernel", "JALMEngine", "CPosix", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: settings),
        .executableTarget(
            name: "jalmd",
            dependencies: [
                "JALMAPI", "JALMKernel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: settings),
        // The client side of the API: HTTP/1.1 over the control socket or TCP (CLI, tests, benchmarks).
        .target(name: "JALMClient", swiftSettings: settings),
        .executableTarget(
            name: "jalm",
            dependencies: [
                "JALMWire", "JALMClient", "JALMCore", "JALMCapsule", "JALMDocument",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: settings),
        // The sandbox: policies as data, cgroups (v1 and v2), the audit of a running plugin.
        .target(name: "JALMSandbox", dependencies: ["JALMWire", "JALMCore", "JALMDocument", "CPosix"], swiftSettings: settings),
        // Syscall numbers to names (libseccomp), to name the syscall a seccomp kill reports.
        .target(name: "CSeccomp", linkerSettings: [.linkedLibrary("seccomp")]),
        // The launcher every plugin process starts through: cgroup, rlimits, namespaces, Landlock,
        // no_new_privs, user, seccomp, execve. Small, in C, auditable.
        .executableTarget(name: "jalm-launch", path: "Sources/jalm-launch", linkerSettings: [.linkedLibrary("seccomp")]),
        // What a plugin links: handshake, read loop, op dispatch, cancel, drain.
        .target(name: "JALMLayerKit", dependencies: ["JALMWire", "JALMPlatform"], swiftSettings: settings),
        // The network: libcurl (one multi handle per process) behind an SSRF guard, for io-http and notify-mq.
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "JALMNet", dependencies: ["CCurl", "JALMWire", "JALMPlatform"], swiftSettings: settings),
        .executableTarget(name: "jalm-layer-io-http", dependencies: ["JALMLayerKit", "JALMNet"], path: "Sources/Layers/IOHTTP", swiftSettings: settings),
        // libpq for io-db's PostgreSQL databases (synchronous calls on the layer's own threads, PQcancel).
        .systemLibrary(name: "CLibPQ", providers: [.apt(["libpq-dev"])]),
        .executableTarget(name: "jalm-layer-io-db", dependencies: ["JALMLayerKit", "CSQLite", "CLibPQ"], path: "Sources/Layers/IODB", swiftSettings: settings),
        .executableTarget(name: "jalm-layer-io-file", dependencies: ["JALMLayerKit", "CPosix"], path: "Sources/Layers/IOFile", swiftSettings: settings),
        .executableTarget(name: "jalm-layer-compute-script", dependencies: ["JALMLayerKit", "JALMExpr", "JALMPlatform", "CPosix", .product(name: "WasmKit", package: "WasmKit")], path: "Sources/Layers/ComputeScript", swiftSettings: settings),
        // render-html's ops as a library, so that the benchmark can render in-process.
        .target(
            name: "RenderHTMLKit",
            dependencies: [
                "JALMLayerKit", "JALMWire", "CPosix", .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Ink", package: "Ink"),
            ],
            path: "Sources/Layers/RenderHTMLKit", swiftSettings: settings),
        .executableTarget(name: "jalm-layer-render-html", dependencies: ["JALMLayerKit", "RenderHTMLKit"], path: "Sources/Layers/RenderHTML", swiftSettings: settings),
        // libcrypto for notify-mq's HMAC-SHA256 webhook signatures.
        .systemLibrary(name: "CLibCrypto", providers: [.apt(["libssl-dev"])]),
        .executableTarget(name: "jalm-layer-notify-mq", dependencies: ["JALMLayerKit", "JALMNet", "JALMPlatform", "CLibCrypto"], path: "Sources/Layers/NotifyMQ", swiftSettings: settings),
        // Fixture plugins for the end-to-end tests: echo, slow, crash-on-start, oversize-frame, no-hello, ...
        .executableTarget(
            name: "jalm-fixture-layer", dependencies: ["JALMLayerKit", "JALMWire", "CPosix", "CHostileProbes"],
            path: "Tests/FixtureLayers", swiftSettings: settings),
        // The syscalls a confined layer must not make, tried by the hostile fixture; never in a shipped binary.
        .target(name: "CHostileProbes", path: "Tests/CHostileProbes"),
        // Benchmarks that print their figures (bench/README.md).
        .executableTarget(
            name: "jalm-bench",
            dependencies: ["JALMKernel", "JALMSupervisor", "JALMWire", "JALMClient", "JALMExpr", "RenderHTMLKit", "JALMNet", "JALMDocument"],
            path: "bench/Sources/jalm-bench",
            swiftSettings: settings),

        .testTarget(name: "JALMWireTests", dependencies: ["JALMWire"], swiftSettings: settings),
        .testTarget(name: "JALMCoreTests", dependencies: ["JALMCore"], swiftSettings: settings),
        .testTarget(name: "JALMCapsuleTests", dependencies: ["JALMCapsule", "JALMDocument"], swiftSettings: settings),
        .testTarget(
            name: "JALMEngineTests",
            dependencies: ["JALMEngine", "JALMCapsule", "JALMStore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: settings),
        .testTarget(name: "JALMStoreTests", dependencies: ["JALMStore"], swiftSettings: settings),
        .testTarget(name: "JALMSandboxTests", dependencies: ["JALMSandbox", "JALMDocument"], swiftSettings: settings),
        .testTarget(name: "JALMNetTests", dependencies: ["JALMNet", "JALMWire"], swiftSettings: settings),
        .testTarget(name: "NotifyMQTests", dependencies: ["jalm-layer-notify-mq", "JALMLayerKit", "JALMWire"], swiftSettings: settings),
        .testTarget(name: "JALMExprTests", dependencies: ["JALMExpr", "JALMWire"], swiftSettings: settings),
        .testTarget(
            name: "ExprWasmOpTests",
            dependencies: ["jalm-layer-compute-script", "JALMLayerKit", .product(name: "WAT", package: "WasmKit")],
            swiftSettings: settings),
        .testTarget(name: "IOFileTests", dependencies: ["jalm-layer-io-file", "JALMLayerKit", "JALMPlatform"], swiftSettings: settings),
        // A throwaway PostgreSQL server (initdb + postgres on a free loopback port) for io-db's tests.
        .target(name: "PostgresTestServer", path: "Tests/PostgresTestServer", swiftSettings: settings),
        .testTarget(name: "IODBTests", dependencies: ["jalm-layer-io-db", "JALMLayerKit", "PostgresTestServer"], swiftSettings: settings),
        .testTarget(name: "RenderHTMLTests", dependencies: ["RenderHTMLKit", "JALMLayerKit"], swiftSettings: settings),
        // The HTTP API in process: the real routes over a real kernel, driven by Hummingbird's test client.
        .testTarget(
            name: "JALMAPITests",
            dependencies: [
                "JALMAPI", "JALMKernel", "JALMWire", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),
        .testTarget(name: "EndToEndTests", dependencies: ["JALMWire", "JALMCapsule", "JALMDocument", "JALMClient", "JALMStore", "PostgresTestServer"], swiftSettings: settings),
    ]
)
