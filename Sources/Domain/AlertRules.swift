import Foundation

/// Alert thresholds by month (contract "Output: alert"). Loaded from JSON; the defaults are
/// bundled as `Resources/alert-rules.json`. Percentages are held in exact hundredths.
public struct AlertRules: Sendable, Hashable {
    public enum Basis: String, Sendable, Hashable {
        /// Thresholds are a percentage of the pace M/12 × 100.
        case pace
        /// Thresholds are a percentage of the annual plan.
        case plan
    }

    public enum Severity: String, Sendable, Hashable, Comparable {
        case warning, critical
        public static func < (a: Severity, b: Severity) -> Bool { a == .warning && b == .critical }
    }

    public struct Level: Sendable, Hashable {
        public var rule: String
        /// In hundredths of a percent (30 % = 3000).
        public var belowHundredths: Int64
        public init(rule: String, belowHundredths: Int64) {
            self.rule = rule
            self.belowHundredths = belowHundredths
        }
    }

    /// Months `months` are evaluated with these levels; months in no band are not evaluated.
    public struct Band: Sendable, Hashable {
        public var months: ClosedRange<Int>
        public var basis: Basis
        public var critical: Level
        public var warning: Level
        public init(months: ClosedRange<Int>, basis: Basis, critical: Level, warning: Level) {
            self.months = months
            self.basis = basis
            self.critical = critical
            self.warning = warning
        }
    }

    /// Points above a threshold needed to step down (de-escalate or resolve), in hundredths.
    public var recoveryMarginHundredths: Int64
    public var bands: [Band]

    public init(recoveryMarginHundredths: Int64, bands: [Band]) {
        self.recoveryMarginHundredths = recoveryMarginHundredths
        self.bands = bands
    }

    public func band(forMonth month: Int) -> Band? { bands.first { $0.months.contains(month) } }

    /// The bundled defaults.
    public static func bundled() throws(AlertRulesError) -> AlertRules {
        let path = Bundle.module.path(forResource: "alert-rules", ofType: "json") ?? "alert-rules.json"
        return try load(path: path)
    }

    public static func load(path: String) throws(AlertRulesError) -> AlertRules {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AlertRulesError(file: path, problem: "cannot read the file")
        }
        return try decode(Array(data), file: path)
    }

    /// Parses the rules file format (see `Resources/alert-rules.json` and Schemas/README.md).
    public static func decode(_ bytes: [UInt8], file: String) throws(AlertRulesError) -> AlertRules {
        func fail(_ problem: String) -> AlertRulesError { AlertRulesError(file: file, problem: problem) }
        guard let root = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw fail("not a JSON object")
        }
        guard root["schema"] as? String == "khuyencong.alert-rules.v1" else {
            throw fail("\"schema\" must be \"khuyencong.alert-rules.v1\"")
        }
        let margin = try hundredths(root["recovery_margin_points"], "/recovery_margin_points", fail)
        guard let rawBands = root["bands"] as? [Any] else { throw fail("\"bands\" must be an array") }
        var bands: [Band] = []
        for (i, raw) in rawBands.enumerated() {
            let at = "/bands/\(i)"
            guard let b = raw as? [String: Any] else { throw fail("\(at) must be an object") }
            guard let months = b["months"] as? [Any], months.count == 2,
                let lo = integer(months[0]), let hi = integer(months[1]),
                1 <= lo, lo <= hi, hi <= 12
            else { throw fail("\(at)/months must be [first, last] with 1 ≤ first ≤ last ≤ 12") }
            guard let basisText = b["basis"] as? String, let basis = Basis(rawValue: basisText) else {
                throw fail("\(at)/basis must be \"pace\" or \"plan\"")
            }
            let critical = try level(b["critical"], "\(at)/critical", fail)
            let warning = try level(b["warning"], "\(at)/warning", fail)
            guard critical.belowHundredths <= warning.belowHundredths else {
                throw fail("\(at): the critical threshold must not exceed the warning threshold")
            }
            if bands.contains(where: { $0.months.overlaps(lo...hi) }) {
                throw fail("\(at)/months overlaps an earlier band")
            }
            bands.append(Band(months: lo...hi, basis: basis, critical: critical, warning: warning))
        }
        return AlertRules(recoveryMarginHundredths: margin, bands: bands)
    }

    private static func level(_ raw: Any?, _ at: String, _ fail: (String) -> AlertRulesError) throws(AlertRulesError)
        -> Level
    {
        guard let l = raw as? [String: Any] else { throw fail("\(at) must be an object") }
        guard let rule = l["rule"] as? String, !rule.isEmpty else {
            throw fail("\(at)/rule must be a non-empty string")
        }
        return Level(rule: rule, belowHundredths: try hundredths(l["below_pct"], "\(at)/below_pct", fail))
    }

    private static func integer(_ raw: Any?) -> Int? {
        guard let n = raw as? NSNumber else { return nil }
        let d = n.doubleValue
        return d == d.rounded() && abs(d) < 1e9 ? Int(d) : nil
    }

    /// A non-negative number with at most two decimals, as hundredths.
    private static func hundredths(_ raw: Any?, _ at: String, _ fail: (String) -> AlertRulesError)
        throws(AlertRulesError) -> Int64
    {
        guard let n = raw as? NSNumber else { throw fail("\(at) must be a number") }
        let scaled = n.doubleValue * 100
        guard scaled >= 0, scaled < 1e12, abs(scaled - scaled.rounded()) < 1e-6 else {
            throw fail("\(at) must be a number from 0 with at most two decimals")
        }
        return Int64(scaled.rounded())
    }
}

/// A rules file that cannot be used: which file and what is wrong.
public struct AlertRulesError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let problem: String
    public var description: String { "\(file): \(problem)" }
}
