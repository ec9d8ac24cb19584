import Domain
import Synchronization

/// Stage 2: owns the aggregator while this worker holds the sequenced partition. The loop
/// mutates it; HTTP queries read it under the same lock.
final class AggregateStage: Sendable {
    struct Owned {
        var aggregator: Aggregator
        var assembler = SegmentAssembler()
        /// Last emitted message of every alert since the state was restored (resolved ones too).
        var alerts: [String: [UInt8]] = [:]
    }

    /// What stage 2 produced for one Kafka batch: outputs in deterministic order.
    struct Output {
        var summaries: [EncodedMessage] = []
        var alerts: [EncodedMessage] = []
        var rejected: [(key: [UInt8]?, value: [UInt8])] = []
        var changelog: [ChangelogRecord] = []
        var segments = 0
        var records = 0
        var inputTimestamps: [Int64] = []
        var sequencedTimestamps: [Int64] = []
        var endBatchTime = Duration.zero
        var isEmpty: Bool { summaries.isEmpty && alerts.isEmpty && rejected.isEmpty && changelog.isEmpty }
    }

    private let owned = Mutex<Owned?>(nil)
    let configuration: AggregatorConfiguration
    let metrics: PipelineMetrics
    private let decoder: ExecutionUpdateDecoder

    init(configuration: AggregatorConfiguration, metrics: PipelineMetrics) {
        self.configuration = configuration
        self.metrics = metrics
        decoder = ExecutionUpdateDecoder(registries: configuration.registries)
    }

    var isOwned: Bool { owned.withLock { $0 != nil } }

    /// Takes ownership with the state rebuilt from changelog records.
    func restore(_ records: [ChangelogRecord]) throws(ChangelogError) {
        try owned.withLock { (owned: inout Owned?) throws(ChangelogError) in
            let aggregator = Aggregator(configuration: configuration)
            try aggregator.restore(records)
            var state = Owned(aggregator: aggregator)
            for alert in aggregator.activeAlerts() { state.alerts[alert.key] = alert.value }
            metrics.revisionKeys.record(aggregator.revisionKeyCount)
            updateActiveAlertGauges(aggregator)
            owned = state
        }
    }

    /// The whole state as a changelog snapshot (empty when not the owner).
    func changelogSnapshot(id: Int64) -> [ChangelogRecord] {
        owned.withLock { $0?.aggregator.changelogSnapshot(id: id) } ?? []
    }

    /// Gives up ownership (revoke, session end): the state is dropped, the open segment too.
    func drop() {
        owned.withLock { $0 = nil }
    }

    /// The sequenced offset to commit: the first record not yet aggregated, else `next`.
    func committableOffset(next: Int64) -> Int64 {
        owned.withLock { $0?.assembler.firstPendingOffset } ?? next
    }

    /// Feeds sequenced records (log order) and aggregates every segment they complete.
    func process(_ records: [SegmentAssembler.Entry], into out: inout Output) {
        var segments: [SegmentAssembler.Segment] = []
        owned.withLock { state in
            for r in records {
                if case .some(.some(let s)) = state?.assembler.append(r) { segments.append(s) }
            }
        }
        for segment in segments {
            owned.withLock { state in
                guard let aggregator = state?.aggregator else { return }
                for a in aggregate(segment, aggregator, &out) { state?.alerts[a.key] = a.value }
            }
            out.segments += 1
        }
        // Gauges once per poll, not per segment.
        guard !segments.isEmpty else { return }
        owned.withLock { state in
            guard let aggregator = state?.aggregator else { return }
            metrics.revisionKeys.record(aggregator.revisionKeyCount)
            updateActiveAlertGauges(aggregator)
        }
    }

    /// Applies one segment and ends the aggregator batch at the segment's timestamp; returns its alerts.
    private func aggregate(_ segment: SegmentAssembler.Segment, _ aggregator: Aggregator, _ out: inout Output) -> [EncodedMessage] {
        var accepted = 0, duplicate = 0, stale = 0
        defer {
            metrics.accepted.increment(by: accepted)
            metrics.duplicate.increment(by: duplicate)
            metrics.stale.increment(by: stale)
        }
        for entry in segment.entries {
            guard let record = entry.record else { continue }
            out.records += 1
            out.inputTimestamps.append(record.timestampMillis)
            out.sequencedTimestamps.append(entry.timestampMillis)
            switch aggregator.apply(record.facts, original: { originalUpdate(record) }) {
            case .accepted: accepted += 1
            case .duplicate: duplicate += 1
            case .stale: stale += 1
            case .rejected(let rejection):
                metrics.rejected(rejection.reason)
                let origin = record.origin
                out.rejected.append((origin.key, RejectedRecords.encode(rejection, origin: origin, payload: Array(record.payload))))
            }
        }
        let applied = ContinuousClock.now
        let batch = aggregator.endBatch(at: RejectedRecord.timestamp(epochMilliseconds: segment.timestampMillis))
        out.endBatchTime += ContinuousClock.now - applied
        for s in batch.summaries { metrics.summaryEmitted(key: Array(s.key.utf8)) }
        for a in batch.alerts { metrics.alertEmitted(state: Self.alertState(a.value)) }
        out.summaries += batch.summaries
        out.alerts += batch.alerts
        out.changelog += batch.changelog
        return batch.alerts
    }

    /// A record's update as sent (a conflict's rejection names its report): its payload decoded again.
    private func originalUpdate(_ record: SequencedRecord) -> ExecutionUpdate? {
        let key = Array(record.facts.province.utf8)
        guard case .success(let update) = decoder.decode(payload: Array(record.payload), key: key) else { return nil }
        return update
    }

    private func updateActiveAlertGauges(_ aggregator: Aggregator) {
        var counts: [String: Int] = [:]
        for alert in aggregator.activeAlertSeverities() {
            guard let region = region(of: alert.scope) else { continue }
            counts[PipelineMetrics.activeAlertLabel(region: region, severity: alert.severity.rawValue), default: 0] += 1
        }
        metrics.setActiveAlerts(counts)
    }

    /// A province's alerts count under its region, a region's under itself, the nation's under ca-nuoc.
    private func region(of scope: AlertScope) -> String? {
        switch scope {
        case .national: return "ca-nuoc"
        case .region(let r): return r.rawValue
        case .province(let code):
            let registries = configuration.registries
            return (registries.r2025.unit(code) ?? registries.r2004.unit(code))?.region.rawValue
        }
    }

    static func alertState(_ json: [UInt8]) -> String { jsonString(json, member: "state") ?? "" }

    /// The string value of a top-level member of our own compact JSON (`"name":"value"`).
    static func jsonString(_ json: [UInt8], member: String) -> String? {
        let needle = Array("\"\(member)\":\"".utf8)
        guard json.count > needle.count else { return nil }
        var i = 0
        while i + needle.count <= json.count {
            if json[i] == needle[0], Array(json[i..<(i + needle.count)]) == needle {
                let start = i + needle.count
                guard let end = json[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                return String(decoding: json[start..<end], as: UTF8.self)
            }
            i += 1
        }
        return nil
    }

    // MARK: Queries

    /// nil when this worker holds no state (not the owner, or restoring).
    func summaries(region: String?, year: Int?, period: String?) -> [[UInt8]]? {
        let computedAt = RejectedRecord.timestamp(epochMilliseconds: Timestamps.wallMillis())
        let periodFilter = period.flatMap(YearMonth.init)
        return owned.withLock { state -> [[UInt8]]? in
            guard let aggregator = state?.aggregator else { return nil }
            if period != nil && periodFilter == nil { return [] }
            var result: [[UInt8]] = []
            for scope in SummaryScope.all where region == nil || scope.id == region {
                for y in aggregator.fiscalYears where year == nil || y == year {
                    for p in aggregator.summaryPeriods(scope, fiscalYear: y) where periodFilter == nil || p == periodFilter {
                        if let s = aggregator.summary(scope, fiscalYear: y, periodEnd: p, computedAt: computedAt) { result.append(s) }
                    }
                }
            }
            return result
        }
    }

    /// nil when this worker holds no state (not the owner, or restoring).
    func alerts(activeOnly: Bool) -> [[UInt8]]? {
        owned.withLock { state -> [[UInt8]]? in
            guard let state else { return nil }
            if activeOnly { return state.aggregator.activeAlerts().map(\.value) }
            return state.alerts.sorted { $0.key < $1.key }.map(\.value)
        }
    }
}
