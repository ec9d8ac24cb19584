/// Funding source of a report.
public enum FundingSource: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Khuyến công quốc gia (national budget).
    case kcqg = "KCQG"
    /// Khuyến công địa phương (local budget); `KCDP` on the wire.
    case kcdp = "KCDP"

    public static func < (a: FundingSource, b: FundingSource) -> Bool { a == .kcqg && b == .kcdp }
}

/// `estimate` (ước thực hiện) or `actual` (thực hiện). An actual report wins over any estimate.
public enum ReportStatus: String, Sendable, Hashable, CaseIterable {
    case estimate
    case actual
}

public enum ActivityCategory: String, Sendable, Hashable, CaseIterable {
    case training
    case capacityBuilding = "capacity_building"
    case demonstrationModels = "demonstration_models"
    case cleanerProduction = "cleaner_production"
    case productDevelopment = "product_development"
    case tradePromotion = "trade_promotion"
    case consultingInformation = "consulting_information"
    case clusterLinkage = "cluster_linkage"
}

public struct Activity: Sendable, Hashable {
    public var category: ActivityCategory
    public var executedVND: Int64
    public var projects: Int64?
    public var beneficiaries: Int64?

    public init(category: ActivityCategory, executedVND: Int64, projects: Int64? = nil, beneficiaries: Int64? = nil) {
        self.category = category
        self.executedVND = executedVND
        self.projects = projects
        self.beneficiaries = beneficiaries
    }
}

public struct Consulting: Sendable, Hashable {
    public var projects: Int64
    public var revenueVND: Int64

    public init(projects: Int64, revenueVND: Int64) {
        self.projects = projects
        self.revenueVND = revenueVND
    }
}

/// (province, fiscal_year, source, period_end, status): the key revisions are compared under.
public struct RevisionKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var province: String
    public var fiscalYear: Int
    public var source: FundingSource
    public var periodEnd: YearMonth
    public var status: ReportStatus

    public init(province: String, fiscalYear: Int, source: FundingSource, periodEnd: YearMonth, status: ReportStatus) {
        self.province = province
        self.fiscalYear = fiscalYear
        self.source = source
        self.periodEnd = periodEnd
        self.status = status
    }

    public var description: String { "\(province)/\(fiscalYear)/\(source.rawValue)/\(periodEnd)/\(status.rawValue)" }

    public static func < (a: RevisionKey, b: RevisionKey) -> Bool { a.description < b.description }
}

/// A validated execution update (`khuyencong.execution-update.v1`). Amounts are integer đồng.
/// Equality is the contract's "same content": every contract field, `report_id` and
/// `reported_at` included.
public struct ExecutionUpdate: Sendable, Hashable {
    public var reportID: String
    public var province: String
    public var fiscalYear: Int
    public var periodEnd: YearMonth
    public var source: FundingSource
    public var status: ReportStatus
    public var planVND: Int64
    public var executedVND: Int64
    /// 1 … 2^53−1
    public var revision: Int64
    /// RFC 3339 as sent; compared as written.
    public var reportedAt: String
    public var advancedVND: Int64?
    public var activities: [Activity]?
    public var consulting: Consulting?

    public init(
        reportID: String, province: String, fiscalYear: Int, periodEnd: YearMonth,
        source: FundingSource, status: ReportStatus, planVND: Int64, executedVND: Int64,
        revision: Int64, reportedAt: String, advancedVND: Int64? = nil,
        activities: [Activity]? = nil, consulting: Consulting? = nil
    ) {
        self.reportID = reportID
        self.province = province
        self.fiscalYear = fiscalYear
        self.periodEnd = periodEnd
        self.source = source
        self.status = status
        self.planVND = planVND
        self.executedVND = executedVND
        self.revision = revision
        self.reportedAt = reportedAt
        self.advancedVND = advancedVND
        self.activities = activities
        self.consulting = consulting
    }

    public var revisionKey: RevisionKey {
        RevisionKey(province: province, fiscalYear: fiscalYear, source: source, periodEnd: periodEnd, status: status)
    }
}
