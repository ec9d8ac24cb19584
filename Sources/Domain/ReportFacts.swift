/// What aggregation needs of a validated update: plain values and a digest of its whole
/// content (`ContentDigest`, which decides duplicate against conflict). The validating stage
/// derives them, so the aggregating stage never builds strings or arrays per update.
public struct ReportFacts: Sendable, Hashable {
    /// Province code 0…99; -1 when the province is not two digits (rejected by `apply`).
    public var code: Int
    public var fiscalYear: Int
    public var periodEnd: YearMonth
    public var source: FundingSource
    public var status: ReportStatus
    public var planVND: Int64
    public var executedVND: Int64
    public var advancedVND: Int64?
    public var revision: Int64
    public var digest: UInt128

    public init(_ u: ExecutionUpdate) {
        self.init(u, code: Aggregator.code(u.province) ?? -1)
    }

    /// `borrowing`: an initializer otherwise takes its argument owned, and the one-pass decoder
    /// (~300 bytes with its inline activities) was copied once per update.
    init<U: DigestSource>(_ u: borrowing U, code: Int) {
        self.init(
            code: code, fiscalYear: u.fiscalYear, periodEnd: u.periodEnd, source: u.source,
            status: u.status, planVND: u.planVND, executedVND: u.executedVND, advancedVND: u.advancedVND,
            revision: u.revision, digest: ContentDigest.of(u))
    }

    public init(
        code: Int, fiscalYear: Int, periodEnd: YearMonth, source: FundingSource, status: ReportStatus,
        planVND: Int64, executedVND: Int64, advancedVND: Int64?, revision: Int64, digest: UInt128
    ) {
        self.code = code
        self.fiscalYear = fiscalYear
        self.periodEnd = periodEnd
        self.source = source
        self.status = status
        self.planVND = planVND
        self.executedVND = executedVND
        self.advancedVND = advancedVND
        self.revision = revision
        self.digest = digest
    }

    /// The province as on the wire (two digits), which is also the input's message key.
    public var province: String { code < 0 ? "?" : Aggregator.text(code) }
}
