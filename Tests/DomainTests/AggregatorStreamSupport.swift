import Testing
@testable import Domain

/// Deterministic pseudo-random numbers (SplitMix64) so stream tests replay exactly.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Streams {
    /// A random stream over a few provinces of every region, FY2024–2026 (across the registry
    /// change), with revisions, estimates, duplicates, stale and conflicting inputs.
    static func updates(count: Int, seed: UInt64, maxAmount: Int64 = 10_000_000) -> [ExecutionUpdate] {
        var rng = SeededRandom(seed: seed)
        let codes2004 = ["01", "02", "08", "38", "44", "60", "67", "68", "70", "79"]
        let codes2025 = ["01", "08", "38", "44", "68", "79", "80"]
        var revisions: [RevisionKey: Int64] = [:]
        var out: [ExecutionUpdate] = []
        for _ in 0..<count {
            let year = [2024, 2025, 2025, 2026].randomElement(using: &rng) ?? 2024
            let month = Int.random(in: 1...12, using: &rng)
            let v = RegistryVersion.inForce(at: YearMonth(year: year, month: month))
            let code = (v == .v2004 ? codes2004 : codes2025).randomElement(using: &rng) ?? "01"
            let source: FundingSource = Bool.random(using: &rng) ? .kcqg : .kcdp
            let status: ReportStatus = Int.random(in: 0..<3, using: &rng) == 0 ? .estimate : .actual
            var u = Fixture.update(
                code, year, month, source, plan: Int64.random(in: 0...maxAmount, using: &rng),
                executed: Int64.random(in: 0...maxAmount, using: &rng), status: status,
                advanced: Bool.random(using: &rng) ? Int64.random(in: 0...maxAmount, using: &rng) : nil)
            let key = u.revisionKey
            let held = revisions[key] ?? 0
            switch Int.random(in: 0..<10, using: &rng) {
            case 0 where held > 1: u.revision = held - 1  // stale
            case 1 where held > 0: u.revision = held  // duplicate content? only if identical; else conflict
            default: u.revision = held + 1
            }
            u.reportID = "r-\(code)-\(year)-\(month)-\(source.rawValue)-\(status.rawValue)-\(u.revision)"
            revisions[key] = max(held, u.revision)
            out.append(u)
            if Int.random(in: 0..<8, using: &rng) == 0 { out.append(u) }  // exact duplicate
        }
        return out
    }

    /// Applies `updates` in batches of `batchSize`, timestamps derived from the batch number.
    static func run(_ a: Aggregator, _ updates: [ExecutionUpdate], batchSize: Int, firstBatch: Int = 0) -> [BatchOutput]
    {
        stride(from: 0, to: updates.count, by: batchSize).enumerated().map { i, start in
            for u in updates[start..<min(start + batchSize, updates.count)] { _ = a.apply(u) }
            return a.endBatch(at: timestamp(firstBatch + i))
        }
    }

    static func timestamp(_ batch: Int) -> String {
        "2026-11-21T10:\(batch / 60 < 10 ? "0" : "")\(batch / 60):\(batch % 60 < 10 ? "0" : "")\(batch % 60)Z"
    }

    /// Every existing summary's current JSON (fixed computed_at), keyed by its topic key.
    static func finalSummaries(_ a: Aggregator) -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for year in a.fiscalYears {
            for scope in SummaryScope.all {
                for p in a.summaryPeriods(scope, fiscalYear: year) {
                    out["\(scope.id)/\(year)/\(p)"] = a.summary(scope, fiscalYear: year, periodEnd: p, computedAt: "x")
                }
            }
        }
        return out
    }
}
