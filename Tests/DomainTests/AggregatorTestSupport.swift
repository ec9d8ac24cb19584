import Foundation
import SchemaTestSupport
import Testing
@testable import Domain

/// Builders and readers shared by the aggregation tests.
enum Fixture {
    static let registries: Registries = {
        do { return try Registries.load() } catch { preconditionFailure("bundled registries: \(error)") }
    }()
    static let rules: AlertRules = {
        do { return try AlertRules.bundled() } catch { preconditionFailure("bundled rules: \(error)") }
    }()

    static func aggregator(rules: AlertRules = Fixture.rules) -> Aggregator {
        Aggregator(configuration: AggregatorConfiguration(registries: registries, rules: rules))
    }

    static let million: Int64 = 1_000_000

    static func update(
        _ province: String, _ year: Int, _ month: Int, _ source: FundingSource,
        plan: Int64, executed: Int64, status: ReportStatus = .actual, revision: Int64 = 1,
        advanced: Int64? = nil, reportID: String? = nil
    ) -> ExecutionUpdate {
        ExecutionUpdate(
            reportID: reportID ?? "\(province)-\(year)-\(month)-\(source.rawValue)-\(status.rawValue)-r\(revision)",
            province: province, fiscalYear: year, periodEnd: YearMonth(year: year, month: month),
            source: source, status: status, planVND: plan, executedVND: executed, revision: revision,
            reportedAt: "\(year)-\(month < 10 ? "0" : "")\(month)-28T08:00:00+07:00", advancedVND: advanced)
    }

    /// Splits `total` into `n` non-negative parts that add up exactly (uneven on purpose).
    static func split(_ total: Int64, _ n: Int) -> [Int64] {
        let weights = (0..<n).map { Int64($0 % 5 + 1) }
        let sum = weights.reduce(0, +)
        var parts = weights.map { total / sum * $0 }
        parts[0] += total - parts.reduce(0, +)
        return parts
    }

    /// Province codes of a region under a registry, in code order.
    static func codes(_ region: RegionID, _ version: RegistryVersion = .v2004) -> [String] {
        registries[version].units(in: region).map(\.code)
    }

    /// One update per province of `codes` whose plans and executed amounts add up to the totals.
    static func regionUpdates(
        _ codes: [String], _ year: Int, _ month: Int, _ source: FundingSource,
        plan: Int64, executed: Int64, status: ReportStatus = .actual, revision: Int64 = 1
    ) -> [ExecutionUpdate] {
        zip(codes, zip(split(plan, codes.count), split(executed, codes.count).reversed())).map { code, amounts in
            update(code, year, month, source, plan: amounts.0, executed: amounts.1, status: status, revision: revision)
        }
    }

    static func apply(_ a: Aggregator, _ updates: [ExecutionUpdate], at ts: String = "2026-01-01T00:00:00Z") -> BatchOutput {
        for u in updates { _ = a.apply(u) }
        return a.endBatch(at: ts)
    }

    static func object(_ bytes: [UInt8]) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
    }

    static func message(_ out: BatchOutput, _ key: String) -> [String: Any]? {
        out.summaries.first { $0.key == key }.map { object($0.value) } ?? out.alerts.first { $0.key == key }.map { object($0.value) }
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
            if let i = Int(p), let a = v as? [Any] { v = i < a.count ? a[i] : nil } else { v = (v as? [String: Any])?[p] }
        }
        return v
    }
}

/// Validates emitted summaries and alerts against Schemas/ (via SchemaTestSupport).
enum AggregateSchemaCheck {
    /// Returns one line per violation; empty when all messages are valid.
    static func errors(_ messages: [[UInt8]], schema: String) throws -> [String] {
        let violations = try SchemaValidation.violations(messages.map { ($0, "\(schema).schema.json") })
        return violations.enumerated().flatMap { i, v in v.map { "message \(i): \($0)" } }
    }

    /// Expects every summary and alert of the outputs to be valid.
    static func expectValid(_ outputs: [BatchOutput], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let summaries = outputs.flatMap { $0.summaries.map(\.value) }
        let alerts = outputs.flatMap { $0.alerts.map(\.value) }
        #expect(try errors(summaries, schema: "regional-summary.v1") == [], sourceLocation: sourceLocation)
        #expect(try errors(alerts, schema: "alert.v1") == [], sourceLocation: sourceLocation)
    }
}
