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
        // libxml2 and libxmlsec1 (OpenSSL) for SAML: parsing, signatures, encrypted assertions; zlib for the
        // HTTP-Redirect binding. xmlsec's pkg-config flags are -D defines, which SwiftPM refuses from
        // pkg-config, so CXMLSec states them here (Debian's libxmlsec1-dev 1.2.x, see scripts/lib/common.sh).
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .target(
            name: "CXMLSec", dependencies: ["CLibXML2"],
            cSettings: [
                .define("XMLSEC_NO_SIZE_T"), .define("XMLSEC_CRYPTO_OPENSSL", to: "1"), .define("XMLSEC_NO_GOST", to: "1"),
                .define("XMLSEC_NO_GOST2012", to: "1"), .define("XMLSEC_NO_CRYPTO_DYNAMIC_LOADING", to: "1"),
                .define("XMLSEC_OPENSSL3_ENGINES", to: "1"), .define("__XMLSEC_FUNCTION__", to: "__func__"),
                .unsafeFlags(["-I/usr/include/xmlsec1", "-I/usr/include/libxml2"]),
            ],
            linkerSettings: [
                .linkedLibrary("xmlsec1-openssl"), .linkedLibrary("xmlsec1"), .linkedLibrary("ssl"),
                .linkedLibrary("crypto"), .linkedLibrary("xml2"), .linkedLibrary("z"),
            ]
        ),
        .target(
            name: "RampartCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                // Identity providers' SAML signing certificates are checked to parse when configured.
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .target(name: "RampartSCIM", dependencies: ["RampartCore"]),
        // The SAML 2.0 service provider's protocol core: response validation, AuthnRequest, metadata.
        // No storage or server dependency: the replay cache and the routes are the caller's.
        .target(name: "RampartSAML", dependencies: ["RampartCore", "CLibXML2", "CXMLSec", .product(name: "Crypto", package: "swift-crypto")]),
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
                // Each SAML provider's service-provider certificate is made here (self-signed).
                .product(name: "X509", package: "swift-certificates"),
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
                "RampartSAML",
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
                "RampartSAML",
                "RampartSAMLTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
            ]
        ),
        .target(
            name: "RampartTestSupport",
            dependencies: ["RampartCore", "RampartStorage", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "SQLKit", package: "sql-kit")],
            path: "Tests/RampartTestSupport"
        ),
        .testTarget(name: "RampartCoreTests", dependencies: ["RampartCore"]),
        .testTarget(name: "RampartSCIMTests", dependencies: ["RampartSCIM"]),
        // An identity provider for tests and `rampart-bench saml-acs`: builds and signs responses with libxmlsec1.
        .target(name: "RampartSAMLTestSupport", dependencies: ["RampartSAML", "CLibXML2", "CXMLSec"], path: "Tests/RampartSAMLTestSupport"),
        .testTarget(name: "RampartSAMLTests", dependencies: ["RampartSAML", "RampartSAMLTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "RampartAuthnTests", dependencies: ["RampartAuthn"]),
        .testTarget(name: "RampartStreamsTests", dependencies: ["RampartStreams"]),
        .testTarget(name: "RampartStorageTests", dependencies: ["RampartStorage", "RampartStreams", "RampartTestSupport"]),
        .testTarget(
            name: "RampartServerTests",
            dependencies: [
                "RampartServer",
                "RampartStreams",
                "RampartTestSupport",
                "RampartSAMLTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
