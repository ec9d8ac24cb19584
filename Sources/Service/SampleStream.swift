import Domain
import Foundation

/// The bundled SYNTHETIC sample stream (`Resources/sample-stream.jsonl`): monthly cumulative
/// province reports whose regional totals reproduce the seed figures of the contract and the
/// issue, plus revisions, estimates replaced by actuals, a duplicate, a stale resend and one
/// bad record per rejection reason. Deterministic: `generate` always returns the same text,
/// and a test checks it against the committed file.
public enum SampleStream {
    /// The seed figures, in million đồng.
    public enum Seeds {
        /// miền Trung – Tây Nguyên 2021, full year: KCQG 11,070 of 11,140 (99.37%),
        /// KCĐP 37,730 of 40,090 (94.11%).
        public static let mttn2021Plan = (kcqg: Int64(11_140), kcdp: Int64(40_090))
        public static let mttn2021December = (kcqg: Int64(11_070), kcdp: Int64(37_730))
        /// 2021 at month 7 (same period last year of 2022-07): 8,986 of 51,230 = 17.54%.
        public static let mttn2021July = (kcqg: Int64(1_500), kcdp: Int64(7_486))
        /// miền Trung – Tây Nguyên, 7 months of 2022: 20.7 billion = 28.44%; KCQG 12.11%, KCĐP 39.38%.
        public static let mttn2022Plan = (kcqg: Int64(29_175), kcdp: Int64(43_598))
        public static let mttn2022July = (kcqg: Int64(3_533), kcdp: Int64(17_167))
        /// The 28 northern provinces, first-half 2024 estimates: plan 170.8 billion, KCQG 41.9%, KCĐP 58.1%.
        public static let bac2024Plan = (kcqg: Int64(71_565), kcdp: Int64(99_235))
        public static let bac2024June = (kcqg: Int64(30_050), kcdp: Int64(45_210))
        /// Not a seed (no published figure): the 20 southern provinces, first-half 2024 estimates,
        /// so every region shows in the demo; KCQG at 25.76% lags the 30% warning line of June.
        public static let nam2024Plan = (kcqg: Int64(52_400), kcdp: Int64(83_600))
        public static let nam2024June = (kcqg: Int64(13_500), kcdp: Int64(41_300))
    }

    /// The bundled file, if the resource is present.
    public static var bundledPath: String? {
        Bundle.module.path(forResource: "sample-stream", ofType: "jsonl")
    }

    public static func generate(registries: Registries) -> String {
        var out = Generator(registry: registries.r2004)
        out.year(
            2021, region: .mienTrungTayNguyen, plan: Seeds.mttn2021Plan,
            anchors: [(7, Seeds.mttn2021July, true), (12, Seeds.mttn2021December, false)])
        out.year(
            2022, region: .mienTrungTayNguyen, plan: Seeds.mttn2022Plan,
            anchors: [(7, Seeds.mttn2022July, true)])
        out.year(
            2024, region: .bac, plan: Seeds.bac2024Plan,
            anchors: [(6, Seeds.bac2024June, true)], lastMonthStatus: .estimate)
        out.year(
            2024, region: .nam, plan: Seeds.nam2024Plan,
            anchors: [(6, Seeds.nam2024June, true)], lastMonthStatus: .estimate)
        return out.lines.joined(separator: "\n") + "\n"
    }
}

/// Builds the stream line by line.
private struct Generator {
    let registry: Registry
    var lines: [String] = []

    typealias Pair = (kcqg: Int64, kcdp: Int64)
    static let million: Int64 = 1_000_000

    /// A stable pseudo-random number in 0..<modulus for a tag (FNV-1a; no Hasher, whose seed changes per run).
    static func noise(_ tag: String, _ modulus: UInt64) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in tag.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int64(h % modulus)
    }

    /// Splits `total` into integer parts proportional to `weights` (largest remainder; exact sum).
    static func split(_ total: Int64, weights: [Int64]) -> [Int64] {
        let sum = weights.reduce(0, +)
        var parts = weights.map { total * $0 / sum }
        let order = weights.indices.sorted { (total * weights[$0]) % sum > (total * weights[$1]) % sum }
        for i in order.prefix(Int(total - parts.reduce(0, +))) { parts[i] += 1 }
        return parts
    }

    /// One region-year of monthly cumulative reports. `anchors` are (month, regional executed,
    /// vary-by-province); months between anchors grow monotonically towards the next one.
    mutating func year(
        _ year: Int, region: RegionID, plan: Pair, anchors: [(Int, Pair, Bool)],
        lastMonthStatus: ReportStatus = .actual
    ) {
        let units = registry.units(in: region)
        let lastMonth = anchors.last?.0 ?? 12
        for source in FundingSource.allCases {
            let regionalPlan = source == .kcqg ? plan.kcqg : plan.kcdp
            let planWeights = units.map { 50 + Self.noise("plan/\(year)/\(source)/\($0.code)", 100) }
            let plans = Self.split(regionalPlan, weights: planWeights)
            var anchorValues: [(month: Int, values: [Int64])] = [(0, units.map { _ in 0 })]
            for (month, executed, vary) in anchors {
                let regional = source == .kcqg ? executed.kcqg : executed.kcdp
                let weights = units.indices.map { i in
                    plans[i] * (vary ? 70 + Self.noise("exec/\(year)/\(month)/\(source)/\(units[i].code)", 61) : 100)
                }
                anchorValues.append((month, Self.split(regional, weights: weights)))
            }
            cumulative[source] = (1...lastMonth).map { month in
                let next = anchorValues.firstIndex { $0.month >= month } ?? anchorValues.count - 1
                let (m0, v0) = anchorValues[next - 1], (m1, v1) = anchorValues[next]
                return units.indices.map { i in
                    // Convex growth with a province-specific lag: monotone, exact at the anchors.
                    let lag = Int64(Self.noise("lag/\(year)/\(source)/\(units[i].code)", 4))
                    let t = Int64(month - m0), span = Int64(m1 - m0)
                    return v0[i] + (v1[i] - v0[i]) * t * (t + lag) / (span * (span + lag))
                }
            }
            annualPlan[source] = plans
        }
        for month in 1...lastMonth {
            let period = YearMonth(year: year, month: month)
            if year == 2022 && month == 7 { estimatesBeforeActuals(period, units: units) }
            for (i, unit) in units.enumerated() {
                for source in FundingSource.allCases {
                    var report = report(
                        unit: unit, index: i, source: source, period: period,
                        status: month == lastMonth ? lastMonthStatus : .actual)
                    if year == 2022 && month == 6 && source == .kcdp && (i == 4 || i == 5) {
                        // A typo sent first, corrected by revision 2 at the end of the month.
                        report.executed *= 2
                        lines.append(report.json)
                        pendingCorrections.append(i)
                        continue
                    }
                    lines.append(report.json)
                }
            }
            if year == 2022 && month == 6 { corrections(period, units: units) }
            if year == 2022 && month == 7 { oddities(period, units: units) }
        }
    }

    var cumulative: [FundingSource: [[Int64]]] = [:]
    var annualPlan: [FundingSource: [Int64]] = [:]
    var pendingCorrections: [Int] = []

    func report(
        unit: AdministrativeUnit, index: Int, source: FundingSource, period: YearMonth,
        status: ReportStatus, revision: Int64 = 1
    ) -> Report {
        let executed = (cumulative[source]?[period.month - 1][index] ?? 0) * Self.million
        return Report(
            province: unit.code, period: period, source: source, status: status,
            plan: (annualPlan[source]?[index] ?? 0) * Self.million, executed: executed, revision: revision,
            reportedAt: Self.reportedAt(period, status: status, minute: index),
            withActivities: index % 4 == 0 && status == .actual
        )
    }

    /// Actuals are reported on the 5th of the next month, estimates on the 25th of the month.
    static func reportedAt(_ period: YearMonth, status: ReportStatus, minute: Int) -> String {
        let next =
            period.month == 12
            ? YearMonth(year: period.year + 1, month: 1) : YearMonth(year: period.year, month: period.month + 1)
        let day = status == .actual ? "\(next)-05" : "\(period)-25"
        return "\(day)T08:\(minute < 10 ? "0" : "")\(minute):00+07:00"
    }

    /// The first three units send a KCQG estimate before their actual (the actual wins).
    mutating func estimatesBeforeActuals(_ period: YearMonth, units: [AdministrativeUnit]) {
        for i in 0..<3 {
            var estimate = report(unit: units[i], index: i, source: .kcqg, period: period, status: .estimate)
            estimate.executed = estimate.executed / 10 * 9
            lines.append(estimate.json)
        }
    }

    mutating func corrections(_ period: YearMonth, units: [AdministrativeUnit]) {
        for i in pendingCorrections {
            var corrected = report(
                unit: units[i], index: i, source: .kcdp, period: period, status: .actual, revision: 2)
            corrected.reportedAt = "\(period)-28T10:00:00+07:00"
            lines.append(corrected.json)
        }
        // A stale resend of the typo (revision 1 < held 2): ignored.
        if let i = pendingCorrections.first {
            var stale = report(unit: units[i], index: i, source: .kcdp, period: period, status: .actual)
            stale.executed *= 2
            lines.append(stale.json)
        }
        pendingCorrections = []
    }

    /// A duplicate, then one bad record per rejection reason a file can carry (`too_large` would
    /// need a 64 KiB line; `key_mismatch` cannot happen when the key is taken from the line).
    mutating func oddities(_ period: YearMonth, units: [AdministrativeUnit]) {
        let good = report(unit: units[1], index: 1, source: .kcdp, period: period, status: .actual)
        lines.append(good.json)  // duplicate: same revision, same content
        var conflicting = good
        conflicting.executed += Self.million
        lines.append(conflicting.json)  // conflicting_revision
        let base = report(unit: units[2], index: 2, source: .kcdp, period: period, status: .actual, revision: 3)
        lines.append(String(base.json.prefix(60)))  // malformed_json
        // schema_mismatch
        lines.append(base.json.replacingOccurrences(of: "execution-update.v1", with: "execution-update.v2"))
        // missing_field
        lines.append(base.json.replacingOccurrences(of: #","reported_at":"\#(base.reportedAt)""#, with: ""))
        // invalid_field
        lines.append(
            base.json.replacingOccurrences(
                of: #""executed_vnd":\#(base.executed)"#, with: #""executed_vnd":"\#(base.executed)""#))
        // amount_out_of_range
        lines.append(
            base.json.replacingOccurrences(
                of: #""plan_vnd":\#(base.plan)"#, with: #""plan_vnd":-\#(base.plan)"#))
        // period_out_of_range
        lines.append(
            base.json.replacingOccurrences(
                of: #""period_end":"\#(period)""#, with: #""period_end":"2023-07""#))
        var unknown = base
        unknown.province = "99"
        lines.append(unknown.json)  // unknown_province
        var mismatch = base
        mismatch.withActivities = true
        mismatch.activitiesOffset = Self.million
        lines.append(mismatch.json)  // activities_mismatch
    }
}

/// One execution update, written as compact JSON in the contract's field order.
private struct Report {
    var province: String
    var period: YearMonth
    var source: FundingSource
    var status: ReportStatus
    var plan: Int64
    var executed: Int64
    var revision: Int64
    var reportedAt: String
    var withActivities: Bool
    /// Added to the first activity, to make the items not add up.
    var activitiesOffset: Int64 = 0

    var json: String {
        var activities: [Activity]?
        if withActivities {
            let training = executed / 5 * 2
            let projects = Int64(1 + period.month / 3)
            activities = [
                Activity(
                    category: .training, executedVND: training + activitiesOffset, projects: projects,
                    beneficiaries: projects * 40),
                Activity(category: .tradePromotion, executedVND: executed - training, projects: projects),
            ]
        }
        let update = ExecutionUpdate(
            reportID: "\(province)-\(period)-\(source.rawValue)-\(status.rawValue)-r\(revision)", province: province,
            fiscalYear: period.year, periodEnd: period, source: source, status: status, planVND: plan,
            executedVND: executed, revision: revision, reportedAt: reportedAt, activities: activities
        )
        return String(decoding: update.canonicalJSON(), as: UTF8.self)
    }
}
