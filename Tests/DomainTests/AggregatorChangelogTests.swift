import Testing
@testable import Domain
import TestSupport

/// Restoring from the changelog yields exactly the same future outputs, even after a crash
/// that wrote only part of a batch's records.
@Suite(.offThePool) struct AggregatorChangelogTests {
    let stream = Streams.updates(count: 600, seed: 7)
    let batchSize = 60

    func batches() -> [ArraySlice<ExecutionUpdate>] {
        stride(from: 0, to: stream.count, by: batchSize).map { stream[$0..<min($0 + batchSize, stream.count)] }
    }

    @Test func restoreMidStreamContinuesIdentically() async throws {
        let a = Fixture.aggregator()
        let outputs = Streams.run(a, stream, batchSize: batchSize)
        #expect(outputs.contains { !$0.summaries.isEmpty } && outputs.contains { !$0.alerts.isEmpty })
        let cut = outputs.count / 2
        let b = Fixture.aggregator()
        try b.restore(outputs[..<cut].flatMap(\.changelog))
        #expect(b.revisionKeyCount > 0)
        let rest = Array(stream[(cut * batchSize)...])
        let continued = Streams.run(b, rest, batchSize: batchSize, firstBatch: cut)
        for (x, y) in zip(outputs[cut...], continued) {
            #expect(x.summaries == y.summaries)
            #expect(x.alerts == y.alerts)
            #expect(x.changelog == y.changelog)
        }
        #expect(Streams.finalSummaries(a) == Streams.finalSummaries(b))
        #expect(a.activeAlerts() == b.activeAlerts())
        try await AggregateSchemaCheck.expectValid(outputs)
    }

    @Test(arguments: [1, 2, 3])
    func partialRestoreThenReplayConverges(seed: UInt64) throws {
        let a = Fixture.aggregator()
        let outputs = Streams.run(a, stream, batchSize: batchSize)
        var rng = SeededRandom(seed: seed)
        let crashed = Int.random(in: 1..<outputs.count, using: &rng)
        // Only some of the crashed batch's records reached the changelog.
        let partial = outputs[crashed].changelog.filter { _ in Bool.random(using: &rng) }
        let b = Fixture.aggregator()
        try b.restore(outputs[..<crashed].flatMap(\.changelog) + partial)
        let replay = Streams.run(b, Array(stream[(crashed * batchSize)...]), batchSize: batchSize, firstBatch: crashed)
        // The replayed batch re-emits only outputs identical to the original ones …
        for m in replay[0].summaries { #expect(outputs[crashed].summaries.contains(m), "\(m.key)") }
        for m in replay[0].alerts { #expect(outputs[crashed].alerts.contains(m), "\(m.key)") }
        // … and everything after it is exactly the same.
        for (x, y) in zip(outputs[(crashed + 1)...], replay.dropFirst()) {
            #expect(x.summaries == y.summaries)
            #expect(x.alerts == y.alerts)
        }
        #expect(Streams.finalSummaries(a) == Streams.finalSummaries(b))
        #expect(a.activeAlerts() == b.activeAlerts())
    }

    /// The embedded broker keeps only the changelog's tail. Restored from any tail that still holds
    /// a complete snapshot (a later snapshot cut short by a crash included), the aggregator goes on
    /// exactly like the original.
    @Test(arguments: [1, 2, 3, 4])
    func aTailWithACompleteSnapshotRestoresTheState(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let all = batches()
        let snapshotAfter = Int.random(in: 1..<(all.count - 2), using: &rng)
        let restoreAt = Int.random(in: (snapshotAfter + 2)..<all.count, using: &rng)
        let a = Fixture.aggregator()
        var outputs: [BatchOutput] = []
        var log: [ChangelogRecord] = []
        var snapshotStart = 0
        for (i, batch) in all.enumerated() {
            for u in batch { _ = a.apply(u) }
            outputs.append(a.endBatch(at: Streams.timestamp(i)))
            guard i < restoreAt else { continue }
            log += outputs[i].changelog
            if i == snapshotAfter {
                snapshotStart = log.count
                log += a.changelogSnapshot(id: Int64(i))
            } else if i == restoreAt - 1 {
                let cutShort = a.changelogSnapshot(id: Int64(i)).dropLast()
                log += cutShort.prefix(Int.random(in: 1...cutShort.count, using: &rng))
            }
        }
        #expect(outputs[restoreAt...].contains { !$0.summaries.isEmpty })

        var fold = ChangelogFold()
        for r in log[Int.random(in: 0...snapshotStart, using: &rng)...] { try fold.add(r) }
        #expect(fold.snapshots == 1)
        let b = Fixture.aggregator()
        try b.restore(fold.records)
        let continued = Streams.run(b, all[restoreAt...].flatMap { $0 }, batchSize: batchSize, firstBatch: restoreAt)
        for (x, y) in zip(outputs[restoreAt...], continued) {
            #expect(x.summaries == y.summaries)
            #expect(x.alerts == y.alerts)
            #expect(x.changelog == y.changelog)
        }
        #expect(Streams.finalSummaries(a) == Streams.finalSummaries(b))
        #expect(a.activeAlerts() == b.activeAlerts())
        #expect(a.changelogSnapshot(id: 0) == b.changelogSnapshot(id: 0))
    }

    /// Only a snapshot whose end carries its begin's id replaces what came before it.
    @Test func onlyACompleteSnapshotReplacesTheLog() throws {
        func fold(_ records: [ChangelogRecord]) throws -> (records: [String: [UInt8]?], snapshots: Int, tailBytes: Int)
        {
            var f = ChangelogFold()
            for r in records { try f.add(r) }
            return (Dictionary(uniqueKeysWithValues: f.records.map { ($0.key, $0.value) }), f.snapshots, f.tailBytes)
        }
        func r(_ key: String, _ v: UInt8?) -> ChangelogRecord { ChangelogRecord(key: key, value: v.map { [$0] }) }
        let begin = { (id: Int64) in ChangelogCodec.snapshotMarker(ChangelogCodec.snapshotBeginKey, id: id) }
        let end = { (id: Int64) in ChangelogCodec.snapshotMarker(ChangelogCodec.snapshotEndKey, id: id) }
        let history = [r("a", 1), r("b", 1), r("c", nil)]

        let snapshot = [begin(7)] + ChangelogCodec.snapshotParts([r("b", 2), r("e", nil)]) + [end(7)]
        let complete = try fold(history + snapshot + [r("d", 1)])
        #expect(complete.snapshots == 1)
        #expect(complete.records == ["b": [2], "d": [1]])
        #expect(complete.tailBytes == (snapshot + [r("d", 1)]).reduce(0) { $0 + $1.logBytes })
        // Cut short, or ended by another snapshot's marker: the records count as changes, nothing is dropped.
        for broken in [
            [begin(7), r("b", 2)], [begin(7), r("b", 2), end(8)], [begin(7), r("b", 2), begin(8), end(7)],
        ] {
            let f = try fold(history + broken + [r("d", 1)])
            #expect(f.snapshots == 0)
            #expect(f.records == ["a": [1], "b": [2], "c": [UInt8]?.none, "d": [1]])
            #expect(f.tailBytes == (history + broken + [r("d", 1)]).reduce(0) { $0 + $1.logBytes })
        }
        // A snapshot restarted before its end (the batch written again after a crash) counts once complete.
        let restarted = try fold(history + [begin(7), r("a", 3), begin(7), r("b", 3), end(7)])
        #expect(restarted.snapshots == 1)
        #expect(restarted.records == ["b": [3]])
        // A part that does not decode is an error, not a silent gap.
        #expect(throws: ChangelogError.self) {
            try fold([begin(1), ChangelogRecord(key: ChangelogCodec.snapshotPartKey, value: [5, 1]), end(1)])
        }
    }

    @Test func restoreRejectsBrokenRecords() {
        let a = Fixture.aggregator()
        #expect(throws: ChangelogError.self) {
            try a.restore([ChangelogRecord(key: "rev/01/2024/KCQG/2024-03/actual", value: [1, 2])])
        }
        #expect(throws: ChangelogError.self) { try a.restore([ChangelogRecord(key: "other/x", value: [])]) }
        #expect(throws: ChangelogError.self) {
            try a.restore([ChangelogRecord(key: "sum/bac/2024/2024-13", value: Array(repeating: 0, count: 16))])
        }
        #expect(throws: ChangelogError.self) {
            try a.restore([
                ChangelogRecord(
                    key: "rev/01/2024/KCQG/2025-03/actual",
                    value: ChangelogCodec.encode(
                        HeldRevision(
                            ReportFacts(Fixture.update("01", 2024, 3, .kcqg, plan: 1, executed: 1)), accepted: 1)))
            ])
        }
    }

    @Test func revisionRecordsRoundTrip() throws {
        let u = Fixture.update(
            "79", 2026, 11, .kcdp, plan: Money.maxAmount, executed: 0, status: .estimate,
            revision: 9_007_199_254_740_991, advanced: 5)
        let held = HeldRevision(ReportFacts(u), accepted: 4)
        #expect(try ChangelogCodec.decodeRevision(ChangelogCodec.encode(held)) == held)
        let slot = YearRevisions.index(code: 79, source: .kcdp, month: 11, status: .estimate)
        #expect(ChangelogCodec.revisionKey(year: 2026, slot: slot) == "rev/" + u.revisionKey.description)
        #expect(ChangelogCodec.parseRevisionKey("rev/79/2026/KCDP/2026-11/estimate")! == (2026, slot))
    }

    @Test func contentDigestCoversEveryContractField() {
        var base = Fixture.update("79", 2026, 11, .kcdp, plan: 10, executed: 5, advanced: 1)
        base.activities = [Activity(category: .tradePromotion, executedVND: 5, projects: 3, beneficiaries: nil)]
        base.consulting = Consulting(projects: 2, revenueVND: 1_000)
        let variants: [(inout ExecutionUpdate) -> Void] = [
            { $0.reportID += "x" }, { $0.reportedAt = "2026-12-01T00:00:00Z" }, { $0.planVND += 1 },
            { $0.executedVND += 1 },
            { $0.advancedVND = nil }, { $0.advancedVND = 2 }, { $0.activities = nil }, { $0.activities = [] },
            { $0.activities?[0].projects = nil }, { $0.activities?[0].beneficiaries = 0 },
            { $0.activities?[0].category = .training },
            { $0.consulting = nil }, { $0.consulting?.revenueVND = 999 }, { $0.revision += 1 },
        ]
        let digest = ContentDigest.of(base)
        #expect(ContentDigest.of(base) == digest)
        // Digests are stored in the changelog: the algorithm must never change.
        #expect(digest == 334_377_648_726_181_857_514_351_881_926_177_923_567)
        for (i, change) in variants.enumerated() {
            var v = base
            change(&v)
            #expect(ContentDigest.of(v) != digest, "variant \(i)")
        }
    }
}

extension ChangelogCodec {
    /// Live records (no deletions) packed into `snapshot/part` records, as a snapshot holds them.
    static func snapshotParts(_ records: [ChangelogRecord]) -> [ChangelogRecord] {
        var packer = SnapshotPacker()
        for r in records { if let value = r.value { packer.add(key: r.key, value: value) } }
        return packer.finish()
    }
}
