// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "hubroute",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hubroute", targets: ["App"]),
        .executable(name: "daraja-sim", targets: ["DarajaSim"]),
        .executable(name: "hubroute-load", targets: ["LoadGen"]),
        .executable(name: "hubroute-stack-floor", targets: ["StackFloor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", exact: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-openapi-generator.git", exact: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", exact: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird.git", exact: "2.1.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", exact: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", exact: "1.4.0"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", exact: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", exact: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", exact: "2.1.1"),
    ],
    targets: [
        // Shared ground: database access, migrations, problem errors, money, configuration.
        .target(
            name: "Core",
            dependencies: [
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
        // Users, tokens, roles, merchants and hub staff membership.
        .target(
            name: "Identity",
            dependencies: [
                "Core",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ],
            swiftSettings: swiftSettings
        ),
        // Categories, products and stock, carts and delivery addresses.
        .target(name: "Catalog", dependencies: ["Core", "Identity"], swiftSettings: swiftSettings),
        .target(name: "Orders", dependencies: ["Core", "Identity", "Catalog"], swiftSettings: swiftSettings),
        .target(name: "Hubs", dependencies: ["Core", "Identity", "Orders"], swiftSettings: swiftSettings),
        // Refund requests, decisions and B2C payouts, automatic refunds, the money audit.
        .target(name: "Refunds", dependencies: ["Core", "Identity", "Orders", "Daraja"], swiftSettings: swiftSettings),
        // Verified-purchase reviews, merchants' replies, moderation and the products' ratings.
        .target(name: "Reviews", dependencies: ["Core", "Catalog", "Orders"], swiftSettings: swiftSettings),
        // M-Pesa payments: STK push, callbacks, reconciliation, flagged payments.
        .target(name: "Payments", dependencies: ["Core", "Identity", "Orders", "Daraja"], swiftSettings: swiftSettings),
        .target(name: "Analytics", dependencies: ["Core"], swiftSettings: swiftSettings),
        // Safaricom Daraja client: OAuth, STK push and query, B2C. No database.
        .target(
            name: "Daraja",
            dependencies: [
                "Core",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // A Daraja look-alike for development and tests, mountable in-process.
        .target(
            name: "DarajaSimulator",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "DarajaSim",
            dependencies: [
                "DarajaSimulator",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        // The web console for hub staff and admins: server-rendered pages over the same services.
        .target(
            name: "Console",
            dependencies: [
                "Core", "Identity", "Catalog", "Orders", "Hubs", "Refunds", "Payments", "Analytics",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Templates"), .copy("Assets")],
            swiftSettings: swiftSettings
        ),
        // The HTTP surface: generated from openapi.yaml, middlewares, handlers, service wiring.
        .target(
            name: "Server",
            dependencies: [
                "Core", "Identity", "Catalog", "Hubs", "Orders", "Refunds", "Reviews", "Analytics", "Payments", "Daraja", "Console",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("openapi.yaml")],
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        // The `hubroute` executable: commands only.
        .executableTarget(
            name: "App",
            dependencies: [
                "Server",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // `hubroute-load`, the benchmarks' load generator (scripts/bench.sh): closed and open loop.
        .executableTarget(
            name: "LoadGen",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // `hubroute-stack-floor` (scripts/bench.sh floor): the stack's own cost per request and
        // per statement, without HubRoute's code.
        .executableTarget(
            name: "StackFloor",
            dependencies: [
                "Core",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test support: a migrated template database cloned per test, an app over real HTTP.
        .target(
            name: "TestSupport",
            dependencies: [
                "Core", "Identity", "Orders", "Server", "DarajaSimulator",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "CoreTests", dependencies: ["Core", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "IdentityTests", dependencies: ["Identity", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "CatalogTests", dependencies: ["Catalog", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "HubsTests", dependencies: ["Hubs", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "OrdersTests", dependencies: ["Orders", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "DarajaTests",
            dependencies: [
                "Daraja", "DarajaSimulator",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PaymentsTests", dependencies: ["Payments", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "RefundsTests", dependencies: ["Refunds", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ReviewsTests", dependencies: ["Reviews", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "AnalyticsTests", dependencies: ["Analytics", "Orders", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "AppTests",
            dependencies: [
                "Server", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
