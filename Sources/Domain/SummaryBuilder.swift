/// Sums of one source (or both) over counted reports.
struct FigureSum: Sendable, Equatable {
    var plan: Int128 = 0
    var executed: Int128 = 0
    /// nil when no counted report has `advanced_vnd`.
    var advanced: Int128?

    mutating func add(_ f: SourceFigure) {
        plan += f.plan
        executed += f.executed
        if let a = f.advanced { advanced = (advanced ?? 0) + a }
    }

    static func + (a: FigureSum, b: FigureSum) -> FigureSum {
        var s = a
        s.plan += b.plan
        s.executed += b.executed
        if let x = b.advanced { s.advanced = (s.advanced ?? 0) + x }
        return s
    }

    var rate: Int128? { Percent.ofRatio(executed, plan) }
}

/// A scope's sums at one month.
struct ScopeTotals: Sendable, Equatable {
    var kcqg = FigureSum()
    var kcdp = FigureSum()
    /// Some unit has a counted report.
    var counted = false
    var estimate = false
    var total: FigureSum { kcqg + kcdp }

    subscript(source: FundingSource) -> FigureSum { source == .kcqg ? kcqg : kcdp }

    mutating func add(_ f: SourceFigure, _ source: FundingSource) {
        if source == .kcqg { kcqg.add(f) } else { kcdp.add(f) }
        counted = true
        estimate = estimate || f.estimate
    }
}

/// Read-only computations over the held revisions (the contract's "current report" rules).
struct AggregationView {
    let index: UnitIndex
    let store: RevisionStore

    static func version(_ year: Int, _ month: Int) -> RegistryVersion {
        RegistryVersion.inForce(at: YearMonth(year: year, month: month))
    }

    /// The unit's figure for `source` at month `m`.
    func figure(_ u: UnitInfo, _ y: YearRevisions, month m: Int, carry: Bool, _ source: FundingSource) -> SourceFigure?
    {
        guard carry else { return y.current(code: u.code, source: source, upTo: m, from: 1) }
        if let own = y.current(code: u.code, source: source, upTo: m, from: RegistrySwitch.month) { return own }
        var sum: SourceFigure?
        for p in u.predecessors {
            let before = RegistrySwitch.monthsBefore
            guard let f = y.current(code: p, source: source, upTo: min(m, before.upperBound), from: before.lowerBound)
            else {
                continue
            }
            if sum == nil { sum = f } else { sum?.add(f) }
        }
        return sum
    }

    /// The summary (scope, year, m) exists: a unit of the scope has a report for exactly m.
    func exists(_ scope: SummaryScope, year: Int, month m: Int) -> Bool {
        guard let y = store[year] else { return false }
        return index.units(scope, Self.version(year, m)).contains { y.hasReport(code: $0.code, month: m) }
    }

    func latestSummaryMonth(_ scope: SummaryScope, year: Int) -> Int? {
        stride(from: 12, through: 1, by: -1).first { exists(scope, year: year, month: $0) }
    }

    func totals(_ units: [UnitInfo], year: Int, month m: Int, carry: Bool) -> ScopeTotals {
        var t = ScopeTotals()
        guard let y = store[year] else { return t }
        for u in units {
            for s in FundingSource.allCases {
                if let f = figure(u, y, month: m, carry: carry, s) { t.add(f, s) }
            }
        }
        return t
    }

    func totals(_ scope: SummaryScope, year: Int, month m: Int) -> ScopeTotals {
        let v = Self.version(year, m)
        return totals(index.units(scope, v), year: year, month: m, carry: RegistrySwitch.carries(year: year, v))
    }

    /// Units (and carry mode) of the same period last year, restated into this month's registry.
    func priorUnits(_ scope: SummaryScope, year: Int, month m: Int) -> ([UnitInfo], Bool) {
        let now = Self.version(year, m), prior = Self.version(year - 1, m)
        if now == prior { return (index.units(scope, prior), RegistrySwitch.carries(year: year - 1, prior)) }
        return (index.restatedUnits(scope), false)
    }

    /// Accepted reports among the summary's inputs (this year and last year, ≤ m).
    func revision(_ scope: SummaryScope, year: Int, month m: Int) -> Int64 {
        func count(_ units: [UnitInfo], _ year: Int, carry: Bool) -> Int64 {
            guard let y = store[year] else { return 0 }
            var n: Int64 = 0
            for u in units {
                if carry {
                    n &+= y.acceptedCount(code: u.code, months: RegistrySwitch.month...max(RegistrySwitch.month, m))
                    for p in u.predecessors { n &+= y.acceptedCount(code: p, months: RegistrySwitch.monthsBefore) }
                } else {
                    n &+= y.acceptedCount(code: u.code, months: 1...m)
                }
            }
            return n
        }
        let v = Self.version(year, m)
        let (prior, priorCarry) = priorUnits(scope, year: year, month: m)
        return count(index.units(scope, v), year, carry: RegistrySwitch.carries(year: year, v))
            &+ count(prior, year - 1, carry: priorCarry)
    }

    /// A unit's encoded row at one (year, month) and the figures it was encoded from.
    struct Row {
        var kcqg: SourceFigure?
        var kcdp: SourceFigure?
        var json: [UInt8]

        /// The JSON shows each source's plan, executed, month and status, not `advanced`.
        func shows(_ q: SourceFigure?, _ d: SourceFigure?) -> Bool { Self.same(kcqg, q) && Self.same(kcdp, d) }

        private static func same(_ a: SourceFigure?, _ b: SourceFigure?) -> Bool {
            guard let a, let b else { return a == nil && b == nil }
            return a.plan == b.plan && a.executed == b.executed && a.month == b.month && a.estimate == b.estimate
        }
    }

    /// Rows memoised per (year, month, code). An entry is reused while its figures are
    /// unchanged, so the aggregator keeps one cache across batches: most rows survive a batch.
    struct RowCache {
        fileprivate var rows: [Int: Row] = [:]
    }

    func content(_ scope: SummaryScope, year: Int, month m: Int) -> AggregateJSON {
        var cache = RowCache()
        return content(scope, year: year, month: m, cache: &cache)
    }

    /// The unit's row JSON for figures (q, d); (year, month) fixes the registry, hence the unit.
    private func row(
        _ u: UnitInfo, _ q: SourceFigure?, _ d: SourceFigure?, year: Int, month m: Int, cache: inout RowCache
    ) -> [UInt8] {
        let key = (year * 100 + m) * 100 + u.code
        if let r = cache.rows[key], r.shows(q, d) { return r.json }
        var w = AggregateJSON(capacity: 400)  // a row with both sources is ~330 bytes
        provinceRow(&w, u, q, d, year: year, summaryMonth: m)
        cache.rows[key] = Row(kcqg: q, kcdp: d, json: w.bytes)
        return w.bytes
    }

    /// Everything a summary's content is made of: each unit's figure per source (in the scope's
    /// unit order) and last year's totals. Equal inputs give equal content, so `digest` lets the
    /// aggregator skip building a summary whose inputs a batch did not change.
    struct SummaryInputs {
        var units: [UnitInfo]
        var figures: [(kcqg: SourceFigure?, kcdp: SourceFigure?)]
        var prior: ScopeTotals
        var digest: UInt128
    }

    func inputs(_ scope: SummaryScope, year: Int, month m: Int) -> SummaryInputs {
        let v = Self.version(year, m)
        let carry = RegistrySwitch.carries(year: year, v)
        let units = index.units(scope, v)
        let y = store[year] ?? YearRevisions()
        var h = WordHasher()
        func feed(_ v: Int128) {
            h.word(UInt64(truncatingIfNeeded: v))
            h.word(UInt64(truncatingIfNeeded: v >> 64))
        }
        func feed(_ f: FigureSum) {
            feed(f.plan)
            feed(f.executed)
            feed(f.advanced ?? -1)
        }
        func feed(_ f: SourceFigure?) {
            guard let f else { return h.word(0) }
            h.word(UInt64(f.month) << 1 | (f.estimate ? 1 : 0) | 1 << 8)
            feed(f.plan)
            feed(f.executed)
            feed(f.advanced ?? -1)
        }
        var figures: [(kcqg: SourceFigure?, kcdp: SourceFigure?)] = []
        figures.reserveCapacity(units.count)
        for u in units {
            let q = figure(u, y, month: m, carry: carry, .kcqg)
            let d = figure(u, y, month: m, carry: carry, .kcdp)
            figures.append((q, d))
            feed(q)
            feed(d)
        }
        let (priorUnits, priorCarry) = priorUnits(scope, year: year, month: m)
        let p = totals(priorUnits, year: year - 1, month: m, carry: priorCarry)
        feed(p.kcqg)
        feed(p.kcdp)
        h.word((p.counted ? 1 : 0) | (p.estimate ? 2 : 0))
        return SummaryInputs(units: units, figures: figures, prior: p, digest: h.finish())
    }

    /// The summary's content: every member but `revision` and `computed_at`, object left open.
    func content(_ scope: SummaryScope, year: Int, month m: Int, cache: inout RowCache) -> AggregateJSON {
        content(scope, year: year, month: m, inputs(scope, year: year, month: m), cache: &cache)
    }

    func content(_ scope: SummaryScope, year: Int, month m: Int, _ inputs: SummaryInputs, cache: inout RowCache)
        -> AggregateJSON
    {
        let v = Self.version(year, m)
        let units = inputs.units
        let period = YearMonth(year: year, month: m)

        // Per-unit figures, scope totals and (for the nation) per-region totals.
        var rows: [[UInt8]] = []
        rows.reserveCapacity(units.count)
        var t = ScopeTotals()
        var byRegion = [ScopeTotals](repeating: ScopeTotals(), count: 3)
        var reported = 0, carried = 0
        var missing: [String] = []
        for (u, (q, d)) in zip(units, inputs.figures) {
            rows.append(row(u, q, d, year: year, month: m, cache: &cache))
            let ri = SummaryScope.region(u.unit.region).index
            if let q { t.add(q, .kcqg); byRegion[ri].add(q, .kcqg) }
            if let d { t.add(d, .kcdp); byRegion[ri].add(d, .kcdp) }
            let month = max(q?.month ?? 0, d?.month ?? 0)
            if month == 0 { missing.append(u.unit.code) } else if month == m { reported += 1 } else { carried += 1 }
        }

        // Rows plus the rest (header, totals, regions, revision, computed_at: about 2 KB for the
        // nation), so the buffer never regrows (a regrowth copies the whole summary).
        var w = AggregateJSON(capacity: rows.reduce(4096) { $0 + $1.count })
        w.beginObject()
        w.key("schema"); w.string("khuyencong.regional-summary.v1")
        w.key("region"); w.string(scope.id)
        w.key("region_name"); w.string(scope.name)
        w.key("fiscal_year"); w.int(year)
        w.key("period_end"); w.period(year: period.year, month: period.month)
        w.key("registry"); w.string(v.rawValue)
        w.key("provinces_expected"); w.int(units.count)
        w.key("provinces_reported"); w.int(reported)
        w.key("provinces_carried"); w.int(carried)
        w.key("provinces_missing"); w.beginArray(); for c in missing { w.string(c) }; w.endArray()
        w.key("status"); w.literal(t.estimate ? "\"estimate\"" : "\"actual\"")
        let total = t.total
        w.key("totals"); block(&w, total)
        w.key("by_source"); w.beginObject()
        for s in FundingSource.allCases {
            w.key(s.rawValue); block(&w, t[s], shareOf: total.executed)
        }
        w.endObject()

        w.key("same_period_last_year")
        let p = inputs.prior
        if p.counted {
            w.beginObject()
            w.key("totals"); priorBlock(&w, now: total, prior: p.total)
            w.key("by_source"); w.beginObject()
            for s in FundingSource.allCases { w.key(s.rawValue); priorBlock(&w, now: t[s], prior: p[s]) }
            w.endObject()
            w.endObject()
        } else {
            w.null()
        }

        w.key("provinces"); w.beginArray()
        for r in rows { w.members(r) }
        w.endArray()

        if scope == .nation {
            w.key("regions"); w.beginArray()
            for r in RegionID.allCases {
                let rt = byRegion[SummaryScope.region(r).index]
                w.beginObject()
                w.key("region"); w.string(r.rawValue)
                w.key("totals"); shareBlock(&w, rt.total, of: total)
                w.key("by_source"); w.beginObject()
                for s in FundingSource.allCases { w.key(s.rawValue); shareBlock(&w, rt[s], of: t[s]) }
                w.endObject()
                w.endObject()
            }
            w.endArray()
        }
        return w
    }

    private func block(_ w: inout AggregateJSON, _ f: FigureSum, shareOf total: Int128? = nil) {
        w.beginObject()
        w.key("plan_vnd"); w.int(f.plan)
        w.key("executed_vnd"); w.int(f.executed)
        w.key("advanced_vnd"); w.int(f.advanced)
        w.key("execution_rate_pct"); w.percent(f.rate)
        if let total { w.key("share_of_region_executed_pct"); w.percent(Percent.ofRatio(f.executed, total)) }
        w.endObject()
    }

    private func priorBlock(_ w: inout AggregateJSON, now: FigureSum, prior: FigureSum) {
        w.beginObject()
        w.key("plan_vnd"); w.int(prior.plan)
        w.key("executed_vnd"); w.int(prior.executed)
        w.key("execution_rate_pct"); w.percent(prior.rate)
        w.key("executed_change_pct"); w.percent(Percent.ofRatio(now.executed - prior.executed, prior.executed))
        // (e1/p1 − e0/p0) / (e0/p0) = (e1·p0 − e0·p1) / (e0·p1); null without a prior or current rate.
        let rateChange: Int128? =
            prior.plan == 0 || prior.executed == 0 || now.plan == 0
            ? nil
            : Percent.ofRatio(now.executed * prior.plan - prior.executed * now.plan, prior.executed * now.plan)
        w.key("rate_change_pct"); w.percent(rateChange)
        w.endObject()
    }

    private func shareBlock(_ w: inout AggregateJSON, _ f: FigureSum, of national: FigureSum) {
        w.beginObject()
        w.key("executed_vnd"); w.int(f.executed)
        w.key("plan_vnd"); w.int(f.plan)
        w.key("share_of_national_executed_pct"); w.percent(Percent.ofRatio(f.executed, national.executed))
        w.endObject()
    }

    private func provinceRow(
        _ w: inout AggregateJSON, _ u: UnitInfo, _ q: SourceFigure?, _ d: SourceFigure?, year: Int, summaryMonth: Int
    ) {
        let month = max(q?.month ?? 0, d?.month ?? 0)
        let m = month == 0 ? nil : month
        w.beginObject()
        w.members(u.rowHead)  // code, name
        w.key("report_month"); if let m { w.period(year: year, month: m) } else { w.null() }
        w.key("status");
        w.literal(
            m == nil ? "null" : ((q?.estimate ?? false) || (d?.estimate ?? false) ? "\"estimate\"" : "\"actual\""))
        w.key("carried"); w.bool(m.map { $0 < summaryMonth } ?? false)
        w.key("by_source"); w.beginObject()
        w.key("KCQG"); sourceRow(&w, q, year: year)
        w.key("KCDP"); sourceRow(&w, d, year: year)
        w.endObject()
        w.endObject()
    }

    private func sourceRow(_ w: inout AggregateJSON, _ f: SourceFigure?, year: Int) {
        guard let f else { w.null(); return }
        w.beginObject()
        w.key("plan_vnd"); w.int(f.plan)
        w.key("executed_vnd"); w.int(f.executed)
        w.key("execution_rate_pct"); w.percent(Percent.ofRatio(f.executed, f.plan))
        w.key("period_end"); w.period(year: year, month: f.month)
        w.key("status"); w.literal(f.estimate ? "\"estimate\"" : "\"actual\"")
        w.endObject()
    }
}
