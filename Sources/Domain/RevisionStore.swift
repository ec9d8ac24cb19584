/// A held revision: the update and how many revisions of its key were accepted so far
/// (summary revisions are derived from these counts).
struct HeldRevision: Sendable, Equatable {
    var update: ExecutionUpdate
    var accepted: Int64
}

/// A held report's amounts as plain values.
struct HeldFigure: Sendable {
    var plan: Int64 = 0
    var executed: Int64 = 0
    var advanced: Int64 = 0
    var hasAdvanced = false
    var estimate = false
    var present = false

    init() {}

    init(_ u: ExecutionUpdate) {
        plan = u.planVND
        executed = u.executedVND
        advanced = u.advancedVND ?? 0
        hasAdvanced = u.advancedVND != nil
        estimate = u.status == .estimate
        present = true
    }
}

/// One source's figure for a unit at some month: a current report, or the sum of a 2025
/// unit's predecessors' reports.
struct SourceFigure: Sendable, Equatable {
    var plan: Int128
    var executed: Int128
    var advanced: Int128?
    /// period_end month (the latest one for a sum).
    var month: Int
    var estimate: Bool

    mutating func add(_ o: SourceFigure) {
        plan += o.plan
        executed += o.executed
        advanced = advanced.map { $0 + (o.advanced ?? 0) } ?? o.advanced
        month = max(month, o.month)
        estimate = estimate || o.estimate
    }
}

/// Held revisions of one fiscal year in flat arrays indexed by province code (00–99), source,
/// month and status, so lookups never hash.
struct YearRevisions: Sendable {
    static let codes = 100
    var slots: [HeldRevision?] = Array(repeating: nil, count: codes * 2 * 12 * 2)
    /// The held figures of each slot as plain values, so summaries read no strings.
    var figures: [HeldFigure] = Array(repeating: HeldFigure(), count: codes * 2 * 12 * 2)
    /// Accepted revisions per code and month (index code*12 + month-1).
    var accepted: [Int64] = Array(repeating: 0, count: codes * 12)
    /// Number of held keys per code and month, for existence checks.
    var heldCount: [Int32] = Array(repeating: 0, count: codes * 12)

    @inline(__always)
    static func index(code: Int, source: FundingSource, month: Int, status: ReportStatus) -> Int {
        ((code * 2 + (source == .kcqg ? 0 : 1)) * 12 + (month - 1)) * 2 + (status == .actual ? 1 : 0)
    }

    /// The unit's current report for `source` at month m: the greatest period_end in
    /// minMonth…m, actual before estimate (each slot holds its key's highest revision).
    func current(code: Int, source: FundingSource, upTo m: Int, from minMonth: Int) -> SourceFigure? {
        guard m >= minMonth else { return nil }
        for month in stride(from: m, through: minMonth, by: -1) {
            let i = Self.index(code: code, source: source, month: month, status: .estimate)
            let f = figures[i + 1].present ? figures[i + 1] : figures[i]
            if f.present {
                return SourceFigure(
                    plan: Int128(f.plan), executed: Int128(f.executed), advanced: f.hasAdvanced ? Int128(f.advanced) : nil,
                    month: month, estimate: f.estimate)
            }
        }
        return nil
    }

    func acceptedCount(code: Int, months: ClosedRange<Int>) -> Int64 {
        var n: Int64 = 0
        for m in months { n &+= accepted[code * 12 + m - 1] }
        return n
    }

    func hasReport(code: Int, month: Int) -> Bool { heldCount[code * 12 + month - 1] > 0 }

    func latestMonth(code: Int) -> Int? {
        for m in stride(from: 12, through: 1, by: -1) where hasReport(code: code, month: m) { return m }
        return nil
    }
}

/// All held revisions, per fiscal year.
struct RevisionStore: Sendable {
    private(set) var years: [Int: YearRevisions] = [:]
    private(set) var count = 0

    subscript(year: Int) -> YearRevisions? { years[year] }

    enum Offer {
        case accepted, duplicate, stale
        case conflict(held: ExecutionUpdate)
    }

    /// The contract's revision-key rules in one in-place access: r > held replaces (accepted),
    /// r = held is a duplicate when equal and a conflict otherwise, r < held is stale.
    mutating func offer(_ u: ExecutionUpdate, code: Int) -> Offer {
        let i = YearRevisions.index(code: code, source: u.source, month: u.periodEnd.month, status: u.status)
        let cm = code * 12 + u.periodEnd.month - 1
        var result = Offer.accepted
        var added = false
        modifyYear(u.fiscalYear) { y in
            var accepted: Int64 = 1
            if let old = y.slots[i] {
                if u.revision < old.update.revision { result = .stale; return }
                if u.revision == old.update.revision { result = old.update == u ? .duplicate : .conflict(held: old.update); return }
                accepted = old.accepted + 1
            } else {
                y.heldCount[cm] += 1
                added = true
            }
            y.accepted[cm] &+= 1
            y.slots[i] = HeldRevision(update: u, accepted: accepted)
            y.figures[i] = HeldFigure(u)
        }
        if added { count += 1 }
        return result
    }

    /// Stores `held` for its key (replacing any held revision), keeping the counts in step.
    mutating func set(_ held: HeldRevision, code: Int) {
        let u = held.update
        let i = YearRevisions.index(code: code, source: u.source, month: u.periodEnd.month, status: u.status)
        let cm = code * 12 + u.periodEnd.month - 1
        var added = false
        modifyYear(u.fiscalYear) { y in
            if let old = y.slots[i] {
                y.accepted[cm] &-= old.accepted
            } else {
                y.heldCount[cm] += 1
                added = true
            }
            y.accepted[cm] &+= held.accepted
            y.slots[i] = held
            y.figures[i] = HeldFigure(u)
        }
        if added { count += 1 }
    }

    /// The `rev/…` changelog record of one slot, encoded in place (no copy of the update).
    func changelogRecord(year: Int, slot: Int) -> ChangelogRecord? {
        years[year]?.slots.withUnsafeBufferPointer { slots in
            guard slots.indices.contains(slot), slots[slot] != nil else { return nil }
            return ChangelogRecord(key: ChangelogCodec.key(of: slots[slot].unsafelyUnwrapped.update),
                                   value: ChangelogCodec.encode(slots[slot].unsafelyUnwrapped))
        }
    }

    private mutating func modifyYear(_ year: Int, _ body: (inout YearRevisions) -> Void) {
        body(&years[year, default: YearRevisions()])
    }
}
