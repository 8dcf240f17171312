// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "rampart",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "rampart", targets: ["rampart"]),
        .executable(name: "rampart-bench", targets: ["RampartBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
    ],
    targets: [
        .target(name: "CArgon2", exclude: ["LICENSE", "README.md", "src/opt.c", "src/ref.c"],
                cSettings: [.headerSearchPath("src"), .unsafeFlags(["-O3"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCrypt", pkgConfig: "libxcrypt", providers: [.apt(["libcrypt-dev"])]),
        .systemLibrary(name: "CQREncode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        // glibc's DNS resolver, for the TXT records that prove a domain: Swift's packages have no DNS client.
        .target(name: "CResolv", linkerSettings: [.linkedLibrary("resolv")]),
        .target(
            name: "RampartCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                // Identity providers' SAML signing certificates are checked to parse when configured.
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .target(name: "RampartSCIM", dependencies: ["RampartCore"]),
        // Log streams' wire formats and transports: what a SIEM receives, apart from when and why.
        .target(
            name: "RampartStreams",
            dependencies: [
                "RampartCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "RampartAuthn",
            dependencies: [
                "RampartCore",
                "CCrypt",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            resources: [.copy("Resources")]
        ),
        .target(
            name: "RampartStorage",
            dependencies: [
                "RampartCore",
                "RampartAuthn",
                .product(name: "SQLKit", package: "sql-kit"),
                "CSQLite",
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "RampartServer",
            dependencies: [
                "RampartCore",
                "RampartSCIM",
                "RampartAuthn",
                "RampartStreams",
                "CQREncode",
                "CResolv",
                "RampartStorage",
                "CArgon2",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            resources: [.copy("Resources")]
        ),
        .executableTarget(
            name: "rampart",
            dependencies: [
                "RampartCore",
                "RampartAuthn",
                "RampartStorage",
                "RampartServer",
                "RampartStreams",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "RampartBench",
            dependencies: [
                "RampartCore",
                "RampartAuthn",
                "RampartStorage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "RampartTestSupport",
            dependencies: ["RampartCore", "RampartStorage", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/RampartTestSupport"
        ),
        .testTarget(name: "RampartCoreTests", dependencies: ["RampartCore"]),
        .testTarget(name: "RampartSCIMTests", dependencies: ["RampartSCIM"]),
        .testTarget(name: "RampartAuthnTests", dependencies: ["RampartAuthn"]),
        .testTarget(name: "RampartStreamsTests", dependencies: ["RampartStreams"]),
        .testTarget(name: "RampartStorageTests", dependencies: ["RampartStorage", "RampartTestSupport"]),
        .testTarget(
            name: "RampartServerTests",
            dependencies: [
                "RampartServer",
                "RampartStreams",
                "RampartTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
