/// What the aggregator needs: the registries and the alert rules.
public struct AggregatorConfiguration: Sendable {
    public var registries: Registries
    public var rules: AlertRules

    public init(registries: Registries, rules: AlertRules) {
        self.registries = registries
        self.rules = rules
    }

    /// Bundled registries and default alert rules.
    public static func bundled() throws -> AggregatorConfiguration {
        AggregatorConfiguration(registries: try Registries.load(), rules: try AlertRules.bundled())
    }
}

/// What happened to one input (contract "Which report counts").
public enum ApplyOutcome: Sendable, Hashable {
    case accepted
    /// Same revision, same content: ignored (count it in metrics).
    case duplicate
    /// Older revision than the held one: ignored (count it in metrics).
    case stale
    /// `conflicting_revision`, or (defensively) an update the decoder should have rejected.
    case rejected(Rejection)
}

/// One output message: the contract's key and the JSON value.
public struct EncodedMessage: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]
    public init(key: String, value: [UInt8]) {
        self.key = key
        self.value = value
    }
}

/// Everything one batch produced, in deterministic order. Publish `summaries` and `alerts`
/// first, then `changelog`, then commit the input offsets.
public struct BatchOutput: Sendable {
    /// Key `{region}/{fiscal_year}/{period_end}`, ordered by region, year, month.
    public var summaries: [EncodedMessage] = []
    /// Key = alert_id, ordered by key.
    public var alerts: [EncodedMessage] = []
    /// How many of `alerts` were raised, updated and resolved (typed: no reader re-parses the JSON).
    public var alertTransitions: [AlertTransition: Int] = [:]
    /// State changes for the compacted changelog topic: summaries, alerts, then revision keys
    /// (by year and slot), each part in a deterministic order.
    public var changelog: [ChangelogRecord] = []
    public var isEmpty: Bool { summaries.isEmpty && alerts.isEmpty && changelog.isEmpty }
}

/// (scope, fiscal year, month): one regional summary.
public struct SummaryKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var scope: SummaryScope
    public var fiscalYear: Int
    public var month: Int
    public var periodEnd: YearMonth { YearMonth(year: fiscalYear, month: month) }
    /// The topic key `{region}/{fiscal_year}/{period_end}`.
    public var description: String { "\(scope.id)/\(fiscalYear)/\(periodEnd)" }
    public static func < (a: SummaryKey, b: SummaryKey) -> Bool {
        (a.scope.index, a.fiscalYear, a.month) < (b.scope.index, b.fiscalYear, b.month)
    }
}

/// Aggregates accepted updates into regional summaries and alerts, emitting only on change.
/// Deterministic: outputs depend only on the sequence of `apply`/`endBatch` calls and the
/// timestamps passed in (the domain never reads the clock). Not thread-safe: owned by one task.
/// Cost of an accepted update: O(1) in `apply`; `endBatch` recomputes each touched summary
/// (units of its region × months from the update's month).
///
/// The state `apply` touches is `@exclusivity(unchecked)`: the runtime access checks cost about
/// a fifth of `apply`, and no access to it overlaps another (one owner, no callbacks).
public final class Aggregator {
    public let configuration: AggregatorConfiguration
    private let index: UnitIndex
    @exclusivity(unchecked) private var store = RevisionStore()
    /// Digest of each summary's last emitted content.
    private var emitted: [SummaryKey: UInt128] = [:]
    /// Digest of the inputs each summary's content was last built from (this process only: a
    /// restore starts without, and the content digests decide).
    private var inputDigests: [SummaryKey: UInt128] = [:]
    private var alerts: [AlertKey: ActiveAlert] = [:]
    /// Encoded province rows, reused across batches while their figures are unchanged.
    private var rows = AggregationView.RowCache()

    // Per-batch scratch.
    /// year*4 + scope index → first dirty month (months from there to 12 are recomputed).
    @exclusivity(unchecked) private var dirtyFrom: [Int: Int] = [:]
    /// The last dirty mark, to skip repeated dictionary updates for runs of similar updates.
    @exclusivity(unchecked) private var lastDirty = (key: Int.min, from: 0)
    /// year*16 + month last marked per (region, successor's region) combination in this batch.
    @exclusivity(unchecked) private var markedStamp = [Int](repeating: Int.min, count: 12)
    /// year*slotCount + slot of every revision accepted in this batch (deduplicated at the end).
    @exclusivity(unchecked) private var touchedRevisions: [Int] = []
    /// year*100 + code of units whose province alerts need evaluating (deduplicated at the end).
    @exclusivity(unchecked) private var touchedUnits: [Int] = []
    /// Summaries to recheck after a restore (their stored digest did not match).
    private var suspects = Set<SummaryKey>()
    private var evaluateAllAlerts = false

    private static let slotCount = YearRevisions.slotCount

    public init(configuration: AggregatorConfiguration) {
        self.configuration = configuration
        self.index = UnitIndex(registries: configuration.registries)
    }

    /// Number of distinct revision keys held (memory is proportional to it).
    public var revisionKeyCount: Int { store.count }

    // MARK: Input

    /// Applies one validated update under the revision-key rules.
    public func apply(_ u: ExecutionUpdate) -> ApplyOutcome {
        apply(ReportFacts(u)) { u }
    }

    /// The same from an update's facts; `original` is called only for a conflict, whose
    /// rejection names the report (nil: the rejection says what the facts say).
    public func apply(_ f: ReportFacts, original: () -> ExecutionUpdate?) -> ApplyOutcome {
        // The decoder has checked all this; kept so a bad value can never index the tables.
        guard f.periodEnd.year == f.fiscalYear, FiscalYear.range.contains(f.fiscalYear),
            (1...12).contains(f.periodEnd.month)
        else {
            return .rejected(
                Rejection(
                    reason: .periodOutOfRange, field: "/period_end",
                    detail: RejectionText.periodOutsideFiscalYear(f)))
        }
        let code = f.code
        guard (0..<YearRevisions.codes).contains(code),
            index.region(code: code, RegistryVersion.inForce(at: f.periodEnd)) != nil
        else {
            return .rejected(
                Rejection(
                    reason: .unknownProvince, field: "/province",
                    detail: RejectionText.provinceNotInRegistry(f)))
        }
        switch store.offer(f) {
        case .accepted: break
        case .duplicate: return .duplicate
        case .stale: return .stale
        case .conflict: return .rejected(Self.conflict(f, reportID: original()?.reportID))
        }
        let slot = YearRevisions.index(code: code, source: f.source, month: f.periodEnd.month, status: f.status)
        touchedRevisions.append(f.fiscalYear * Self.slotCount + slot)
        markDirty(code: code, year: f.fiscalYear, month: f.periodEnd.month)
        return .accepted
    }

    /// The `conflicting_revision` rejection of `f`, naming its report when `reportID` is known.
    public static func conflict(_ f: ReportFacts, reportID: String?) -> Rejection {
        Rejection(
            reason: .conflictingRevision, field: "/revision",
            detail: RejectionText.conflictingRevision(f, reportID: reportID))
    }

    static func code(_ text: String) -> Int? {
        var value = 0, count = 0
        for b in text.utf8 {
            guard (0x30...0x39).contains(b), count < 2 else { return nil }
            value = value * 10 + Int(b - 0x30)
            count += 1
        }
        return count == 2 ? value : nil
    }

    /// Marks the summaries an accepted report at (code, year, m) feeds: its region's and the
    /// nation's months m…12 of this year (FY2025 H1 reports also feed the successor's region
    /// from July), and of next year (same period last year, restated across registries).
    private func markDirty(code: Int, year: Int, month m: Int) {
        let v = AggregationView.version(year, m)
        guard let r0 = index.region(code: code, v) else { return }
        let successor = v == .v2004 ? index.successor(of: code) : nil
        let successorRegion = successor.flatMap { index.region(code: $0, .v2025) }
        if touchedUnits.last != year * 100 + code { touchedUnits.append(year * 100 + code) }  // runs: both sources
        if RegistrySwitch.isBeforeSwitch(year: year, month: m), let successor {
            touchedUnits.append(year * 100 + successor)
        }
        // The marks depend only on (year, month, region, successor's region): skip repeats.
        let combo = SummaryScope.region(r0).index * 4 + (successorRegion.map { SummaryScope.region($0).index } ?? 3)
        let stamp = year * 16 + m
        if markedStamp[combo] == stamp { return }
        markedStamp[combo] = stamp
        for y in year...year + 1 {
            dirty(.nation, y, m)
            // Months from m under the registry in force then; the switch year changes registry in its course.
            let view = AggregationView.version(y, m)
            if let r = view == v ? r0 : successorRegion { dirty(.region(r), y, m) }
            if RegistrySwitch.isBeforeSwitch(year: y, month: m), let r = v == .v2025 ? r0 : successorRegion {
                dirty(.region(r), y, RegistrySwitch.month)
            }
        }
    }

    private func dirty(_ scope: SummaryScope, _ year: Int, _ from: Int) {
        let k = year * 4 + scope.index
        if lastDirty.key == k, lastDirty.from <= from { return }
        if let old = dirtyFrom[k], old <= from {
            lastDirty = (k, old)
            return
        }
        dirtyFrom[k] = from
        lastDirty = (k, from)
    }

    // MARK: Batch end

    /// Computes the batch's outputs: summaries whose content changed, alert transitions and
    /// changelog records. `timestamp` (RFC 3339) becomes `computed_at` and a new alert's
    /// `raised_at`; pass the same value when a batch is re-processed after a crash.
    public func endBatch(at timestamp: String) -> BatchOutput {
        var out = BatchOutput()
        let view = AggregationView(index: index, store: store)

        var candidates = suspects
        for (k, from) in dirtyFrom {
            let scope = SummaryScope.all[((k % 4) + 4) % 4]
            let year = (k - scope.index) / 4
            for m in from...12 { candidates.insert(SummaryKey(scope: scope, fiscalYear: year, month: m)) }
        }
        for key in candidates.sorted() where view.exists(key.scope, year: key.fiscalYear, month: key.month) {
            // Most marked summaries keep their inputs (a later month with reports of its own, last
            // year's figures): those are not built again.
            let inputs = view.inputs(key.scope, year: key.fiscalYear, month: key.month)
            if inputDigests[key] == inputs.digest, emitted[key] != nil { continue }
            inputDigests[key] = inputs.digest
            var w = view.content(key.scope, year: key.fiscalYear, month: key.month, inputs, cache: &rows)
            let digest = ChangelogCodec.digest(w.bytes)
            guard emitted[key] != digest else { continue }
            emitted[key] = digest
            w.key("revision"); w.int(view.revision(key.scope, year: key.fiscalYear, month: key.month))
            w.key("computed_at"); w.string(timestamp)
            w.endObject()
            let topicKey = key.description
            out.summaries.append(EncodedMessage(key: topicKey, value: w.bytes))
            out.changelog.append(
                ChangelogRecord(
                    key: ChangelogCodec.summaryPrefix + topicKey, value: ChangelogCodec.encode(digest: digest)))
        }

        for (scope, year) in alertScopesToEvaluate() {
            guard let obs = observations(scope, year: year, view: view) else { continue }
            for (source, o) in obs {
                let key = AlertKey(scope: scope, fiscalYear: year, source: source)
                let prior = alerts[key]
                let (emitted, state) = AlertEvaluation.evaluate(
                    key: key, observation: o, prior: prior, rules: configuration.rules, timestamp: timestamp)
                guard let emitted else { continue }
                alerts[key] = state
                out.alerts.append(EncodedMessage(key: key.description, value: emitted.message))
                out.alertTransitions[emitted.transition, default: 0] += 1
                out.changelog.append(
                    ChangelogRecord(
                        key: ChangelogCodec.alertPrefix + key.description, value: state.map(ChangelogCodec.encode)))
            }
        }

        out.alerts.sort { $0.key < $1.key }

        touchedRevisions.sort()
        var previous = Int.min
        for packed in touchedRevisions where packed != previous {
            previous = packed
            let year = packed >= 0 ? packed / Self.slotCount : (packed - Self.slotCount + 1) / Self.slotCount
            if let record = store.changelogRecord(year: year, slot: packed - year * Self.slotCount) {
                out.changelog.append(record)
            }
        }

        dirtyFrom.removeAll(keepingCapacity: true)
        touchedRevisions.removeAll(keepingCapacity: true)
        touchedUnits.removeAll(keepingCapacity: true)
        lastDirty = (Int.min, 0)
        for i in markedStamp.indices { markedStamp[i] = Int.min }
        suspects.removeAll()
        evaluateAllAlerts = false
        return out
    }

    private func alertScopesToEvaluate() -> [(AlertScope, Int)] {
        var set = Set<ScopeYear>()
        if evaluateAllAlerts {
            for (year, y) in store.years {
                for c in 0..<YearRevisions.codes where y.latestMonth(code: c) != nil {
                    set.insert(ScopeYear(.province(Self.text(c)), year))
                }
                for r in RegionID.allCases { set.insert(ScopeYear(.region(r), year)) }
                set.insert(ScopeYear(.national, year))
            }
        }
        for packed in Set(touchedUnits) {
            let year = packed >= 0 ? packed / 100 : (packed - 99) / 100
            set.insert(ScopeYear(.province(Self.text(packed - year * 100)), year))
        }
        for k in dirtyFrom.keys {
            let scope = SummaryScope.all[((k % 4) + 4) % 4]
            let year = (k - scope.index) / 4
            switch scope {
            case .region(let r): set.insert(ScopeYear(.region(r), year))
            case .nation: set.insert(ScopeYear(.national, year))
            }
        }
        return set.sorted { ($0.year, $0.scope) < ($1.year, $1.scope) }.map { ($0.scope, $0.year) }
    }

    private struct ScopeYear: Hashable {
        var scope: AlertScope
        var year: Int
        init(_ scope: AlertScope, _ year: Int) { self.scope = scope; self.year = year }
    }

    static func text(_ code: Int) -> String { code < 10 ? "0\(code)" : "\(code)" }

    /// The scope's latest month M of the year and its figures there, per alert source.
    private func observations(_ scope: AlertScope, year: Int, view: AggregationView) -> [(
        AlertSource, AlertObservation
    )]? {
        let month: Int, totals: ScopeTotals, name: String, inSentence: String
        switch scope {
        case .province(let codeText):
            guard let code = Self.code(codeText), let y = store[year], let m = y.latestMonth(code: code) else {
                return nil
            }
            let v = AggregationView.version(year, m)
            guard let u = index.units(.nation, v).first(where: { $0.code == code }) else { return nil }
            totals = view.totals([u], year: year, month: m, carry: RegistrySwitch.carries(year: year, v))
            month = m
            name = u.unit.name
            inSentence = u.unit.name
        case .region(let r):
            guard let m = view.latestSummaryMonth(.region(r), year: year) else { return nil }
            totals = view.totals(.region(r), year: year, month: m)
            month = m
            name = r.name
            inSentence = r.name.prefix(1).lowercased() + r.name.dropFirst()
        case .national:
            guard let m = view.latestSummaryMonth(.nation, year: year) else { return nil }
            totals = view.totals(.nation, year: year, month: m)
            month = m
            name = SummaryScope.nation.name
            inSentence = "cả nước"
        }
        func obs(_ f: FigureSum) -> AlertObservation {
            AlertObservation(
                month: month, plan: f.plan, executed: f.executed, scopeName: name, scopeInSentence: inSentence)
        }
        return [(.kcqg, obs(totals.kcqg)), (.kcdp, obs(totals.kcdp)), (.total, obs(totals.total))]
    }

    // MARK: Restore

    /// Rebuilds the state from changelog records (later records of a key win; nil deletes).
    /// Call on a fresh aggregator before any `apply`. Summaries whose stored digest does not
    /// match the restored inputs (a partially written batch) are rechecked at the next
    /// `endBatch`, and every alert scope is re-evaluated then, so re-processing the batch that
    /// was cut short converges and re-emits only identical outputs.
    public func restore(_ records: [ChangelogRecord]) throws(ChangelogError) {
        inputDigests.removeAll()
        for r in records {
            do throws(BinaryReader.Failure) {
                if r.key.hasPrefix(ChangelogCodec.revisionPrefix) {
                    guard let v = r.value else { continue }
                    guard let (year, slot) = ChangelogCodec.parseRevisionKey(r.key) else {
                        throw BinaryReader.Failure("not a revision key")
                    }
                    store.set(try ChangelogCodec.decodeRevision(v), year: year, slot: slot)
                } else if r.key.hasPrefix(ChangelogCodec.summaryPrefix) {
                    guard let key = Self.summaryKey(r.key.dropFirst(ChangelogCodec.summaryPrefix.count)) else {
                        throw BinaryReader.Failure("not a summary key")
                    }
                    emitted[key] = try r.value.map(ChangelogCodec.decodeDigest)
                } else if r.key.hasPrefix(ChangelogCodec.alertPrefix) {
                    guard let key = Self.alertKey(r.key.dropFirst(ChangelogCodec.alertPrefix.count)) else {
                        throw BinaryReader.Failure("not an alert key")
                    }
                    alerts[key] = try r.value.map(ChangelogCodec.decodeAlert)
                } else {
                    throw BinaryReader.Failure("unknown key prefix")
                }
            } catch {
                throw ChangelogError(key: r.key, problem: error.problem)
            }
        }
        let view = AggregationView(index: index, store: store)
        for year in store.years.keys {
            for scope in SummaryScope.all {
                for m in 1...12 where view.exists(scope, year: year, month: m) {
                    let key = SummaryKey(scope: scope, fiscalYear: year, month: m)
                    let content = view.content(scope, year: year, month: m, cache: &rows)
                    if emitted[key] != ChangelogCodec.digest(content.bytes) { suspects.insert(key) }
                }
            }
        }
        evaluateAllAlerts = true
    }

    /// The whole state as changelog records, framed by snapshot markers with `id`: restoring them
    /// alone (`ChangelogFold` drops everything before a complete snapshot) gives this state.
    public func changelogSnapshot(id: Int64) -> [ChangelogRecord] {
        var packer = SnapshotPacker()
        for (key, digest) in emitted.sorted(by: { $0.key < $1.key }) {
            packer.add(
                key: ChangelogCodec.summaryPrefix + key.description, value: ChangelogCodec.encode(digest: digest))
        }
        for (key, state) in alertsInKeyOrder() {
            packer.add(key: ChangelogCodec.alertPrefix + key, value: ChangelogCodec.encode(state))
        }
        store.forEachHeld { packer.addRevision(year: $0, slot: $1, $2) }
        return [ChangelogCodec.snapshotMarker(ChangelogCodec.snapshotBeginKey, id: id)] + packer.finish()
            + [ChangelogCodec.snapshotMarker(ChangelogCodec.snapshotEndKey, id: id)]
    }

    static func summaryKey(_ text: Substring) -> SummaryKey? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let scope = SummaryScope(id: String(parts[0])), let year = Int(parts[1]),
            let p = YearMonth(String(parts[2])), p.year == year
        else { return nil }
        return SummaryKey(scope: scope, fiscalYear: year, month: p.month)
    }

    static func alertKey(_ text: Substring) -> AlertKey? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let year = Int(parts[1]), let source = AlertSource(rawValue: String(parts[2])) else {
            return nil
        }
        let scope: AlertScope
        if parts[0] == "national" {
            scope = .national
        } else if parts[0].hasPrefix("region:"), let r = RegionID(rawValue: String(parts[0].dropFirst(7))) {
            scope = .region(r)
        } else if parts[0].hasPrefix("province:"), code(String(parts[0].dropFirst(9))) != nil {
            scope = .province(String(parts[0].dropFirst(9)))
        } else {
            return nil
        }
        return AlertKey(scope: scope, fiscalYear: year, source: source)
    }

    // MARK: Queries (for HTTP)

    /// The summary's current JSON (nil when it does not exist), with `computed_at` as given.
    public func summary(_ scope: SummaryScope, fiscalYear: Int, periodEnd: YearMonth, computedAt: String) -> [UInt8]? {
        let view = AggregationView(index: index, store: store)
        guard periodEnd.year == fiscalYear, (1...12).contains(periodEnd.month),
            view.exists(scope, year: fiscalYear, month: periodEnd.month)
        else { return nil }
        var w = view.content(scope, year: fiscalYear, month: periodEnd.month)
        w.key("revision"); w.int(view.revision(scope, year: fiscalYear, month: periodEnd.month))
        w.key("computed_at"); w.string(computedAt)
        w.endObject()
        return w.bytes
    }

    /// Months of the year that have a summary for the scope, ascending.
    public func summaryPeriods(_ scope: SummaryScope, fiscalYear: Int) -> [YearMonth] {
        let view = AggregationView(index: index, store: store)
        return (1...12).filter { view.exists(scope, year: fiscalYear, month: $0) }.map {
            YearMonth(year: fiscalYear, month: $0)
        }
    }

    /// Fiscal years with any held report, ascending.
    public var fiscalYears: [Int] { store.years.keys.sorted() }

    /// Scope and severity of every active alert, unordered: cheap, for gauges.
    public func activeAlertSeverities() -> [(scope: AlertScope, severity: AlertRules.Severity)] {
        alerts.map { ($0.key.scope, $0.value.severity) }
    }

    /// The last emitted message of every active (raised or updated) alert, ordered by key.
    public func activeAlerts() -> [EncodedMessage] {
        alertsInKeyOrder().map { EncodedMessage(key: $0.key, value: $0.state.message) }
    }

    /// The active alerts in the order of their keys' text, each text built once: `AlertKey.<`
    /// builds both texts on every comparison, and sorting a snapshot's alerts that way took
    /// ~1.7 % of the worker's CPU.
    private func alertsInKeyOrder() -> [(key: String, state: ActiveAlert)] {
        alerts.map { (key: $0.key.description, state: $0.value) }.sorted { $0.key < $1.key }
    }
}
