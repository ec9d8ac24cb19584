import Domain
import Logging
import Synchronization

/// A rejection stage 2 decided: ready to send, or a `conflicting_revision` whose sequenced record
/// does not carry the input's bytes; the publish reads them back from the input topic
/// (`OriginReader`) and builds the record then (`conflictRecord`).
enum StageTwoRejection: Sendable {
    case ready(key: [UInt8]?, value: [UInt8])
    case conflict(ReportFacts, origin: InputOrigin)

    /// The rejected record of a conflict, from the input's bytes as read back (nil: no longer in
    /// the input topic, so the record says null, as for a tombstone); its detail names the report.
    static func conflictRecord(
        _ facts: ReportFacts, origin: InputOrigin, original: [UInt8]?, decoder: ExecutionUpdateDecoder
    ) -> [UInt8] {
        let update = original.flatMap { try? decoder.decode(payload: $0, key: origin.key).get() }
        let rejection = Aggregator.conflict(facts, reportID: update?.reportID)
        return RejectedRecord.encodeNow(rejection, origin: origin, payload: original)
    }
}

/// Stage 2 "aggregate": the aggregator and everything that lives exactly as long as this worker
/// owns the sequenced partition (the open segment, the order guard, the snapshot schedule). The
/// batch loop feeds it sequenced messages; the demo's live table reads it under the same lock.
final class AggregateStage: Sendable {
    /// Ownership of the state, from the rebalance's point of view.
    enum State {
        /// Another worker aggregates, or the state was dropped (revoke, session end, stop mid-restore).
        case notOwner
        /// Restored from the changelog: this worker aggregates.
        case owner(Owner)
    }

    /// The state while owning. A class (not Sendable): it never leaves the mutex.
    final class Owner {
        let aggregator: Aggregator
        var assembler = SegmentAssembler()
        /// Last emitted message of every alert since the state was restored (resolved ones too).
        var alerts: [String: [UInt8]] = [:]
        /// Last sequenced offset aggregated or skipped (guards the log order); at restore the one
        /// before the group's committed offset (-1: none).
        var lastOffset: Int64
        /// When the changelog gets a snapshot of the whole state; nil: never.
        var snapshots: SnapshotSchedule?
        var warnedSnapshotSize = false

        init(aggregator: Aggregator, lastOffset: Int64, snapshots: SnapshotSchedule?) {
            self.aggregator = aggregator
            self.lastOffset = lastOffset
            self.snapshots = snapshots
        }
    }

    /// What stage 2 produced for one batch: outputs in deterministic order.
    struct Output: Sendable {
        var summaries: [EncodedMessage] = []
        var alerts: [EncodedMessage] = []
        var rejected: [StageTwoRejection] = []
        var changelog: [ChangelogRecord] = []
        var segments = 0
        var records = 0
        /// Sequenced records read (each offset once), aggregated or still pending.
        var read = 0
        /// The bytes of the sequenced messages read (as the partition holds them).
        var readBytes = 0
        /// The sequenced offset to commit (the first record not yet aggregated); nil: none read.
        var commitOffset: Int64?
        var inputTimestamps: [Int64] = []
        var sequencedTimestamps: [Int64] = []
        var endBatchTime = Duration.zero
        var duration = Duration.zero
        var isEmpty: Bool { summaries.isEmpty && alerts.isEmpty && rejected.isEmpty && changelog.isEmpty }
    }

    private let state = Mutex<State>(.notOwner)
    /// Records the last `process` call unpacked (a capacity hint).
    private let recordsPerCall = Atomic<Int>(0)
    let configuration: AggregatorConfiguration
    let metrics: PipelineMetrics
    let logger: Logger
    private let decoder: ExecutionUpdateDecoder

    init(configuration: AggregatorConfiguration, metrics: PipelineMetrics, logger: Logger) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        decoder = ExecutionUpdateDecoder(registries: configuration.registries)
    }

    var isOwned: Bool {
        state.withLock { if case .owner = $0 { true } else { false } }
    }

    /// The sequenced offset the owner reads next, when it has read or committed one.
    var expectedNextOffset: Int64? {
        state.withLock { state -> Int64? in
            guard case .owner(let owner) = state, owner.lastOffset >= 0 else { return nil }
            return owner.lastOffset + 1
        }
    }

    /// Takes ownership with the state rebuilt from the changelog. `committedOffset`: the group's
    /// committed sequenced offset (nil: none); `snapshotBudget`: see `ClusterProfile`.
    func restore(_ restored: RestoredChangelog, committedOffset: Int64?, snapshotBudget: Int?) throws(ChangelogError) {
        try state.withLock { (state: inout State) throws(ChangelogError) in
            let aggregator = Aggregator(configuration: configuration)
            try aggregator.restore(restored.records)
            let owner = Owner(
                aggregator: aggregator, lastOffset: (committedOffset ?? 0) - 1,
                snapshots: snapshotBudget.map { SnapshotSchedule(budget: $0, restored: restored) })
            for alert in aggregator.activeAlerts() { owner.alerts[alert.key] = alert.value }
            metrics.revisionKeys.record(aggregator.revisionKeyCount)
            updateActiveAlertGauges(aggregator)
            state = .owner(owner)
        }
    }

    /// Gives up ownership (revoke, session end): the state is dropped, the open segment too.
    func drop() {
        state.withLock { $0 = .notOwner }
    }

    /// Decodes sequenced messages (log order, each offset once) and aggregates every segment they
    /// complete; adds a snapshot to the changelog records when the schedule says so. Empty when
    /// this worker does not own the state.
    func process(_ messages: [MessageRef]) -> Output {
        let started = ContinuousClock.now
        var out = Output()
        guard !messages.isEmpty,
            let after = state.withLock({ state -> Int64? in
                if case .owner(let owner) = state { owner.lastOffset } else { nil }
            })
        else { return out }
        var last = after
        var entries: [SegmentAssembler.Entry] = []
        // As many as the previous call's: growing the array by doubling copied it into new pages.
        entries.reserveCapacity(max(messages.count, recordsPerCall.load(ordering: .relaxed)))
        for m in messages {
            guard m.offset > last else {
                logger.error(
                    "sequenced record out of order skipped",
                    metadata: ["offset": "\(m.offset)", "last": "\(last)"])
                continue
            }
            last = m.offset
            out.readBytes += m.value?.count ?? 0
            let timestamp = m.timestampMillis
            let before = entries.count
            if let value = m.value,
                SequencedPack.unpack(
                    value, into: &entries,
                    {
                        .init(offset: m.offset, timestampMillis: timestamp, record: $0)
                    })
            {
                out.read += entries.count - before
            } else {
                logger.error("undecodable sequenced record skipped", metadata: ["offset": "\(m.offset)"])
                entries.append(.init(offset: m.offset, timestampMillis: timestamp, record: nil))
                out.read += 1
            }
        }
        recordsPerCall.store(entries.count, ordering: .relaxed)
        aggregate(entries, into: &out)
        if last > after {
            state.withLock { state in
                guard case .owner(let owner) = state else { return }
                owner.lastOffset = last
                let commit = owner.assembler.firstPendingOffset ?? last + 1
                out.commitOffset = commit
                // Here, in stage 2: it overlaps with stage 1 like the rest of stage 2.
                addSnapshotIfDue(owner, &out.changelog, id: commit)
            }
        }
        out.duration = .now - started
        return out
    }

    /// Feeds sequenced records (log order) and aggregates every segment they complete.
    private func aggregate(_ records: [SegmentAssembler.Entry], into out: inout Output) {
        let segments = state.withLock { state -> [SegmentAssembler.Segment] in
            guard case .owner(let owner) = state else { return [] }
            return owner.assembler.append(contentsOf: records)
        }
        // One segment per lock: queries are not held up by a whole batch.
        for segment in segments {
            state.withLock { state in
                guard case .owner(let owner) = state else { return }
                for a in aggregate(segment, owner.aggregator, &out) { owner.alerts[a.key] = a.value }
            }
            out.segments += 1
        }
        // Gauges once per poll, not per segment.
        guard !segments.isEmpty else { return }
        state.withLock { state in
            guard case .owner(let owner) = state else { return }
            metrics.revisionKeys.record(owner.aggregator.revisionKeyCount)
            updateActiveAlertGauges(owner.aggregator)
        }
    }

    /// Applies one segment and ends the aggregator batch at the segment's timestamp; returns its alerts.
    private func aggregate(
        _ segment: SegmentAssembler.Segment, _ aggregator: Aggregator,
        _ out: inout Output
    ) -> [EncodedMessage] {
        var accepted = 0, duplicate = 0, stale = 0
        defer {
            metrics.accepted.increment(by: accepted)
            metrics.duplicate.increment(by: duplicate)
            metrics.stale.increment(by: stale)
        }
        out.inputTimestamps.reserveCapacity(out.inputTimestamps.count + segment.entries.count)
        out.sequencedTimestamps.reserveCapacity(out.sequencedTimestamps.count + segment.entries.count)
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
                if rejection.reason == .conflictingRevision && record.payload.isEmpty {
                    out.rejected.append(.conflict(record.facts, origin: origin))
                } else {
                    let value = RejectedRecord.encodeNow(rejection, origin: origin, payload: Array(record.payload))
                    out.rejected.append(.ready(key: origin.key, value: value))
                }
            }
        }
        let applied = ContinuousClock.now
        let batch = aggregator.endBatch(at: RejectedRecord.timestamp(epochMilliseconds: segment.timestampMillis))
        out.endBatchTime += ContinuousClock.now - applied
        for s in batch.summaries { metrics.summaryEmitted(key: Array(s.key.utf8)) }
        for (transition, count) in batch.alertTransitions { metrics.alertsEmitted(transition, count: count) }
        out.summaries += batch.summaries
        out.alerts += batch.alerts
        out.changelog += batch.changelog
        return batch.alerts
    }

    /// Adds the whole state as a snapshot to a batch's changelog records when `SnapshotSchedule` says so.
    private func addSnapshotIfDue(_ owner: Owner, _ changelog: inout [ChangelogRecord], id: Int64) {
        guard !changelog.isEmpty, owner.snapshots != nil else { return }
        guard owner.snapshots!.needsSnapshot(changes: changelog.reduce(0) { $0 + $1.logBytes }) else { return }
        let started = ContinuousClock.now
        let snapshot = owner.aggregator.changelogSnapshot(id: id)
        changelog += snapshot
        let size = snapshot.reduce(0) { $0 + $1.logBytes }
        owner.snapshots!.wroteSnapshot(bytes: size)
        logger.debug(
            "changelog snapshot",
            metadata: [
                "bytes": "\(size)", "id": "\(id)", "ms": "\((ContinuousClock.now - started).wholeMilliseconds)",
            ])
        if 2 * size > owner.snapshots!.budget && !owner.warnedSnapshotSize {
            owner.warnedSnapshotSize = true
            logger.warning(
                """
                the aggregation state is large for the embedded broker, which keeps only ~5 MiB of the changelog: \
                it is written again with nearly every batch, and past ~4 MiB a restart cannot restore it
                """, metadata: ["state_bytes": "\(size)"])
        }
    }

    /// A record's update as sent (a conflict's rejection names its report): its payload decoded
    /// again, when the record carries it (written before stage 1 stopped storing payloads).
    private func originalUpdate(_ record: SequencedRecord) -> ExecutionUpdate? {
        guard !record.payload.isEmpty else { return nil }
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

    // MARK: Queries

    /// nil when this worker holds no state (not the owner, or restoring).
    func summaries(region: String?, year: Int?, period: String?) -> [[UInt8]]? {
        let computedAt = RejectedRecord.timestamp(epochMilliseconds: Timestamps.wallMillis())
        let periodFilter = period.flatMap(YearMonth.init)
        return state.withLock { state -> [[UInt8]]? in
            guard case .owner(let owner) = state else { return nil }
            let aggregator = owner.aggregator
            if period != nil && periodFilter == nil { return [] }
            var result: [[UInt8]] = []
            for scope in SummaryScope.all where region == nil || scope.id == region {
                for y in aggregator.fiscalYears where year == nil || y == year {
                    for p in aggregator.summaryPeriods(scope, fiscalYear: y)
                    where periodFilter == nil || p == periodFilter {
                        if let s = aggregator.summary(scope, fiscalYear: y, periodEnd: p, computedAt: computedAt) {
                            result.append(s)
                        }
                    }
                }
            }
            return result
        }
    }

    /// nil when this worker holds no state (not the owner, or restoring).
    func alerts(activeOnly: Bool) -> [[UInt8]]? {
        state.withLock { state -> [[UInt8]]? in
            guard case .owner(let owner) = state else { return nil }
            if activeOnly { return owner.aggregator.activeAlerts().map(\.value) }
            return owner.alerts.sorted { $0.key < $1.key }.map(\.value)
        }
    }
}
