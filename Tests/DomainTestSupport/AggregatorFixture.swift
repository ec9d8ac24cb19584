import Domain

/// The aggregator's inputs as the domain's tests and the read side's seed build them: the
/// bundled registries and rules, and province updates that add up to given region totals.
public enum AggregatorFixture {
    public static let registries: Registries = {
        do { return try Registries.load() } catch { preconditionFailure("bundled registries: \(error)") }
    }()
    public static let rules: AlertRules = {
        do { return try AlertRules.bundled() } catch { preconditionFailure("bundled rules: \(error)") }
    }()

    public static func aggregator(rules: AlertRules = AggregatorFixture.rules) -> Aggregator {
        Aggregator(configuration: AggregatorConfiguration(registries: registries, rules: rules))
    }

    public static let million: Int64 = 1_000_000

    public static func update(
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
    public static func split(_ total: Int64, _ n: Int) -> [Int64] {
        let weights = (0..<n).map { Int64($0 % 5 + 1) }
        let sum = weights.reduce(0, +)
        var parts = weights.map { total / sum * $0 }
        parts[0] += total - parts.reduce(0, +)
        return parts
    }

    /// Province codes of a region under a registry, in code order.
    public static func codes(_ region: RegionID, _ version: RegistryVersion = .v2004) -> [String] {
        registries[version].units(in: region).map(\.code)
    }

    /// One update per province of `codes` whose plans and executed amounts add up to the totals.
    public static func regionUpdates(
        _ codes: [String], _ year: Int, _ month: Int, _ source: FundingSource,
        plan: Int64, executed: Int64, status: ReportStatus = .actual, revision: Int64 = 1
    ) -> [ExecutionUpdate] {
        zip(codes, zip(split(plan, codes.count), split(executed, codes.count).reversed())).map { code, amounts in
            update(code, year, month, source, plan: amounts.0, executed: amounts.1, status: status, revision: revision)
        }
    }

    public static func apply(
        _ a: Aggregator, _ updates: [ExecutionUpdate],
        at ts: String = "2026-01-01T00:00:00Z"
    ) -> BatchOutput {
        for u in updates { _ = a.apply(u) }
        return a.endBatch(at: ts)
    }
}
