import Domain
import Foundation

/// A percentage as the contract writes it (a JSON number with two decimals), kept exactly as
/// hundredths: decoded through `Decimal`, which keeps the number's digits (a `Double` would not).
public struct Hundredths: Decodable, Sendable, Hashable {
    public let value: Int128

    public init(_ value: Int128) { self.value = value }

    public init(from decoder: Decoder) throws {
        let decimal = try decoder.singleValueContainer().decode(Decimal.self)
        guard let value = Self.parse("\(decimal)") else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "not a percentage with at most two decimals"))
        }
        self.value = value
    }

    /// "12.11" → 1211, "-5" → -500, "0.5" → 50; nil for more than two decimals or an exponent.
    static func parse(_ text: String) -> Int128? {
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int128(parts[0]), whole >= 0 else { return nil }
        var fraction: Int128 = 0
        if parts.count == 2 {
            let f = parts[1]
            guard (1...2).contains(f.count), f.allSatisfy(\.isASCII), let v = Int128(f) else { return nil }
            fraction = f.count == 1 ? v * 10 : v
        }
        let magnitude = whole * 100 + fraction
        return negative ? -magnitude : magnitude
    }

    /// 12,11 (Vietnamese decimal comma).
    public var vietnamese: String { Percent.vietnamese(value) }
}

/// The members of a contract summary (`khuyencong.regional-summary.v1`) the read side uses.
public struct SummaryMessage: Decodable, Sendable {
    public struct Block: Decodable, Sendable {
        public var plan_vnd: Int64?
        public var executed_vnd: Int64?
        public var advanced_vnd: Int64?
        public var execution_rate_pct: Hundredths?
        public var share_of_region_executed_pct: Hundredths?
        public var share_of_national_executed_pct: Hundredths?
        public var executed_change_pct: Hundredths?
        public var rate_change_pct: Hundredths?
    }
    public struct Sources: Decodable, Sendable {
        public var KCQG: Block?
        public var KCDP: Block?
    }
    public struct LastYear: Decodable, Sendable {
        public var totals: Block?
        public var by_source: Sources?
    }
    public struct ProvinceSource: Decodable, Sendable {
        public var plan_vnd: Int64?
        public var executed_vnd: Int64?
        public var execution_rate_pct: Hundredths?
        public var period_end: String?
        public var status: String?
    }
    public struct ProvinceSources: Decodable, Sendable {
        public var KCQG: ProvinceSource?
        public var KCDP: ProvinceSource?
    }
    public struct Province: Decodable, Sendable {
        public var code: String
        public var name: String
        public var report_month: String?
        public var status: String?
        public var carried: Bool?
        public var by_source: ProvinceSources?
    }
    public struct RegionRow: Decodable, Sendable {
        public var region: String
        public var totals: Block?
        public var by_source: Sources?
    }

    public var region: String
    public var region_name: String?
    public var fiscal_year: Int
    public var period_end: String
    public var registry: String?
    public var provinces_expected: Int?
    public var provinces_reported: Int?
    public var provinces_carried: Int?
    public var provinces_missing: [String]?
    public var status: String?
    public var totals: Block?
    public var by_source: Sources?
    public var same_period_last_year: LastYear?
    public var provinces: [Province]?
    public var regions: [RegionRow]?
    public var revision: Int64?
    public var computed_at: String?
}

/// The members of a contract alert (`khuyencong.alert.v1`) the read side uses.
public struct AlertMessage: Decodable, Sendable {
    public struct Scope: Decodable, Sendable, Hashable {
        public var level: String
        public var code: String
        public var name: String?
    }
    public var alert_id: String
    public var state: String
    public var severity: String
    public var scope: Scope
    public var fiscal_year: Int
    public var period_end: String
    public var source: String
    public var execution_rate_pct: Hundredths?
    public var expected_rate_pct: Hundredths?
    public var threshold_pct: Hundredths?
    public var rule: String?
    public var message: String?
    public var raised_at: String?

    public var isActive: Bool { state != "resolved" }
}
