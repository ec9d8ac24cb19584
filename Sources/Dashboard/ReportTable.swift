import Domain
import ReadSide

/// The seeds' report table for one fiscal year and month: one row per region and the nation,
/// every figure taken from the published summaries (exact, as the worker computed them).
public struct ReportTable: Sendable {
    public struct Row: Sendable {
        public var scope: SummaryScope
        /// The scope's summary for the period, or when none of its units reported that month,
        /// its latest earlier one of the same fiscal year (the figures the period carries);
        /// nil when it has none.
        public var summary: SummaryMessage?
        /// The earlier period `summary` is of, when it is not the table's own.
        public var carriedFrom: YearMonth?
        /// This region's shares of the nation's executed amounts (from the nation's summary):
        /// total, KCQG, KCĐP; nil for the nation itself or when unknown.
        public var nationalShare: (total: Hundredths?, kcqg: Hundredths?, kcdp: Hundredths?)?
    }

    public var period: YearMonth
    public var rows: [Row]

    public init(model: ReadModel, period: YearMonth) {
        self.period = period
        let nation = model.summary(.nation, fiscalYear: period.year, period: period)?.message
        rows = SummaryScope.all.map { scope in
            let held =
                model.summary(scope, fiscalYear: period.year, period: period)
                ?? model.summaries(region: scope.id, year: period.year).last { $0.period < period }
            let summary = held?.message
            var share: (Hundredths?, Hundredths?, Hundredths?)?
            if case .region(let id) = scope, let r = nation?.regions?.first(where: { $0.region == id.rawValue }) {
                share = (
                    r.totals?.share_of_national_executed_pct, r.by_source?.KCQG?.share_of_national_executed_pct,
                    r.by_source?.KCDP?.share_of_national_executed_pct
                )
            }
            let carriedFrom = held.flatMap { $0.period == period ? nil : $0.period }
            return Row(scope: scope, summary: summary, carriedFrom: carriedFrom, nationalShare: share)
        }
    }

    /// Whether any scope has a summary for the period.
    public var isEmpty: Bool { rows.allSatisfy { $0.summary == nil } }
}

/// A region's (or the nation's) provinces for one period, in code order, from its summary.
public struct RegionReport: Sendable {
    public var scope: SummaryScope
    public var period: YearMonth
    public var summary: SummaryMessage?
    /// Active alerts of the region's provinces for the period's year, by province code: the
    /// most severe one.
    public var provinceSeverity: [String: String]

    public init(model: ReadModel, scope: SummaryScope, period: YearMonth) {
        self.scope = scope
        self.period = period
        summary = model.summary(scope, fiscalYear: period.year, period: period)?.message
        var severity: [String: String] = [:]
        for alert in model.alerts(activeOnly: true)
        where alert.message.scope.level == "province" && alert.message.fiscal_year == period.year {
            let code = alert.message.scope.code
            if severity[code] != "critical" { severity[code] = alert.message.severity }
        }
        provinceSeverity = severity
    }

    public var provinces: [SummaryMessage.Province] { summary?.provinces ?? [] }
}
