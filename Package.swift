// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "khuyencong",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "khuyencong", targets: ["khuyencong"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        // No default traits: they pull swift-configuration and full Foundation, which we do not use.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // HTTP connection limits (Sources/Service/HTTPLimits.swift) add channel handlers to Hummingbird's.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        // The contract's domain: registry, messages, validation, aggregation, alerts. No Kafka.
        .target(
            name: "Domain",
            exclude: ["Resources/SOURCES.md"],
            resources: [
                .copy("Resources/provinces-2004.csv"), .copy("Resources/provinces-2025.csv"),
                .copy("Resources/alert-rules.json"),
            ]
        ),
        // The service shell: configuration, HTTP endpoints, produce/validate/demo commands.
        .target(
            name: "Service",
            dependencies: [
                "Domain",
                "Kafka",
                "Pipeline",
                "ReadSide",
                "Dashboard",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["Resources/README.md"],
            resources: [.copy("Resources/sample-stream.jsonl")]
        ),
        // librdkafka through pkg-config.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // liblz4's block API: stage 1 compresses the sequenced packs itself.
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        // Only what Swift cannot call: librdkafka's variadic functions.
        .target(name: "CKafkaShim", dependencies: ["CRdKafka"]),
        // jemalloc as the process's allocator, and its options (`malloc_conf` must be a C symbol).
        .target(name: "CJemalloc", linkerSettings: [.linkedLibrary("jemalloc")]),
        // Benchmark baseline: plain-C librdkafka produce/consume loops, and their Swift wrapper.
        .target(name: "CKafkaBaseline", dependencies: ["CRdKafka"]),
        .target(name: "KafkaBaseline", dependencies: ["CKafkaBaseline", "Kafka"]),
        // Swift Kafka layer: producer, consumer, admin, embedded (mock) broker.
        .target(
            name: "Kafka",
            dependencies: [
                "CKafkaShim",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The worker: stage 1 (validate) and stage 2 (aggregate) over Kafka, one transaction per batch.
        .target(
            name: "Pipeline",
            dependencies: [
                "Domain",
                "Kafka",
                "CJemalloc",
                "CLZ4",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The read side: the latest summaries and alerts, read from the output topics by any process.
        .target(
            name: "ReadSide",
            dependencies: [
                "Domain",
                "Kafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The Ministry's pages and exports over the read model: HTML (Mustache templates), CSV.
        .target(
            name: "Dashboard",
            dependencies: [
                "Domain",
                "ReadSide",
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("Resources/templates"), .copy("Resources/static"), .copy("Resources/openapi.yaml")]
        ),
        .executableTarget(
            name: "khuyencong",
            dependencies: [
                "Domain",
                "Service",
                "Kafka",
                "KafkaBaseline",
                "Pipeline",
                "ReadSide",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // libFuzzer over the decoder and validator (`make fuzz`, docs/FUZZING.md); a plain build
        // replays the inputs given as arguments.
        .executableTarget(name: "FuzzDecoder", dependencies: ["Domain"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "TestSupport"]),
        .testTarget(
            name: "ReadSideTests",
            dependencies: [
                "ReadSide",
                "Service",
                "SchemaTestSupport",
                "Dashboard",
                "Domain",
                "Kafka",
                "Pipeline",
                "TestSupport",
                "DomainTestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "Service",
                "Domain",
                "Kafka",
                "ReadSide",
                "SchemaTestSupport",
                "TestSupport",
            ]
        ),
        // Test helper: validates JSON against Schemas/ with python3 jsonschema (any test target may use it).
        .target(name: "SchemaTestSupport", path: "Tests/SchemaTestSupport"),
        // Test helper: the aggregator's inputs (bundled registries, region updates) of DomainTests and ReadSideTests.
        .target(name: "DomainTestSupport", dependencies: ["Domain"], path: "Tests/DomainTestSupport"),
        // Test helpers every test target uses: the one bounded wait (`eventually`), the loopback HTTP client,
        // the `.offThePool` trait for long synchronous tests.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "DomainTests",
            dependencies: [
                "Domain", "DomainTestSupport", "SchemaTestSupport", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "Pipeline", "SchemaTestSupport", "TestSupport",
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
