import DomainTestSupport
import Foundation
import SchemaTestSupport
import Testing
@testable import Domain

/// Builders (shared with the read side's seed) and readers of the aggregation tests.
typealias Fixture = AggregatorFixture

extension AggregatorFixture {
    static func object(_ bytes: [UInt8]) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
    }

    static func message(_ out: BatchOutput, _ key: String) -> [String: Any]? {
        out.summaries.first { $0.key == key }.map { object($0.value) }
            ?? out.alerts.first { $0.key == key }.map { object($0.value) }
    }
}

extension Dictionary where Key == String, Value == Any {
    func at(_ path: String...) -> Any? { lookup(path) }
    func int(_ path: String...) -> Int64? { (lookup(path) as? NSNumber)?.int64Value }
    func double(_ path: String...) -> Double? { (lookup(path) as? NSNumber)?.doubleValue }
    func string(_ path: String...) -> String? { lookup(path) as? String }
    func isNull(_ path: String...) -> Bool { lookup(path) is NSNull }

    private func lookup(_ path: [String]) -> Any? {
        var v: Any? = self
        for p in path {
            if let i = Int(p), let a = v as? [Any] {
                v = i < a.count ? a[i] : nil
            } else {
                v = (v as? [String: Any])?[p]
            }
        }
        return v
    }
}

/// Validates emitted summaries and alerts against Schemas/ (via SchemaTestSupport).
enum AggregateSchemaCheck {
    /// Returns one line per violation; empty when all messages are valid.
    static func errors(_ messages: [[UInt8]], schema: String) async throws -> [String] {
        let violations = try await SchemaValidation.violations(messages.map { ($0, "\(schema).schema.json") })
        return violations.enumerated().flatMap { i, v in v.map { "message \(i): \($0)" } }
    }

    /// Expects every summary and alert of the outputs to be valid.
    static func expectValid(_ outputs: [BatchOutput], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let summaries = outputs.flatMap { $0.summaries.map(\.value) }
        let alerts = outputs.flatMap { $0.alerts.map(\.value) }
        let summaryErrors = try await errors(summaries, schema: "regional-summary.v1")
        let alertErrors = try await errors(alerts, schema: "alert.v1")
        #expect(summaryErrors == [], sourceLocation: sourceLocation)
        #expect(alertErrors == [], sourceLocation: sourceLocation)
    }
}
