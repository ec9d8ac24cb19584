// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "khuyencong",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "khuyencong", targets: ["khuyencong"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
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
        .executableTarget(
            name: "khuyencong",
            dependencies: [
                "Domain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Test helper: validates JSON against Schemas/ with python3 jsonschema (any test target may use it).
        .target(name: "SchemaTestSupport", path: "Tests/SchemaTestSupport"),
        .testTarget(
            name: "DomainTests",
            dependencies: ["Domain", "SchemaTestSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
    ]
)
