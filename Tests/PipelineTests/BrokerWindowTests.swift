import Domain
import Foundation
import Kafka
@testable import Pipeline
import Synchronization
import Testing
import TestSupport

/// The embedded broker keeps only the last ~5 MiB of a partition and never compacts. A restart
/// must restore the state from the snapshot the worker keeps in the changelog's tail, or refuse to
/// start; records dropped before they were read must never go unnoticed.
@Suite struct BrokerWindowTests {
    /// Tombstones of an alert that never existed (or `value`s): no state, but they push a
    /// partition's head out of the window as a long run of changes would. Small chunks, so that
    /// the cut lands just past `offset` (the log start passes it). Returns the new log start.
    func pushHeadOut(
        _ d: Deployment, _ partition: TopicPartition, past offset: Int64 = 0,
        value: [UInt8]? = nil, perChunk: Int = 500
    ) async throws -> Int64 {
        let watcher = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                bootstrapServers: d.broker.bootstrapServers,
                groupID: "watch-\(d.base.groupID)"), logger: quietLogger)
        let key = Array("alert/national/1999/KCQG".utf8)
        let logStart = try await d.producing { producer in
            var logStart: Int64 = 0
            for _ in 0..<(8 << 20) / (perChunk * (35 + (value?.count ?? 0))) {  // ~8 MB: far past the window
                for _ in 0..<perChunk {
                    try await producer.send(
                        topic: partition.topic, partition: partition.partition, key: key, value: value)
                }
                try await producer.flush()
                logStart = try await watcher.watermarks(partition).low
                if logStart > offset { break }
            }
            return logStart
        }
        await watcher.close()
        return logStart
    }

    /// Runs a worker over the fixture until its state is complete and stops it; returns the
    /// group's committed offset of `partition` then.
    func processFixture(_ d: Deployment, thenCommittedOffsetOf partition: TopicPartition) async throws -> Int64 {
        let first = RunningWorker(d.settings(worker: 0))
        try await d.produce(Fixture.stream)
        try await waitForFixtureState([first.worker])
        #expect((try? await first.stop().get()) != nil)
        let watcher = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                bootstrapServers: d.broker.bootstrapServers,
                groupID: d.base.groupID), logger: quietLogger)
        let committed = try await watcher.committed([partition]).first?.offset ?? -1
        await watcher.close()
        return committed
    }

    /// Summaries without `computed_at`, and the active alerts, as the worker answers them.
    func state(_ worker: Worker) async -> (summaries: Set<String>, alerts: Set<String>) {
        let summaries = (await worker.summaries(region: nil, year: nil, period: nil) ?? []).map { json in
            var s = parse(json) ?? [:]
            s["computed_at"] = nil
            return String(
                decoding: (try? JSONSerialization.data(withJSONObject: s, options: .sortedKeys)) ?? Data(),
                as: UTF8.self)
        }
        let alerts = (await worker.alerts(activeOnly: true) ?? []).map { String(decoding: $0, as: UTF8.self) }
        return (Set(summaries), Set(alerts))
    }

    @Test func aRestartAfterTheHeadIsGoneRestoresTheWholeState() async throws {
        let d = try Deployment("changelog-window")
        var settings = d.settings(worker: 0)
        settings.changelogBudget = 1  // a snapshot in every batch: the last one survives the cut
        let aggregated = Atomic<Int>(0)
        settings.batchObserver = { aggregated.add($0.aggregatedRecords, ordering: .relaxed) }
        let first = RunningWorker(settings)
        // In two parts, so that the changelog has at least two record batches: the broker drops
        // whole batches, and the first goes.
        let updates = SyntheticUpdates.generate(count: 2_000, registries: d.base.registries, seed: 11)
        for part in [updates[..<1_500], updates[1_500...]] {
            try await d.produce(part.map { (String(decoding: $0.key, as: UTF8.self), $0.payload) })
            try await eventually("the updates aggregated", within: .seconds(60)) {
                aggregated.load(ordering: .relaxed) >= part.endIndex
            }
        }
        let before = await state(first.worker)
        #expect(before.summaries.count > 50 && !before.alerts.isEmpty)
        #expect((try? await first.stop().get()) != nil)

        #expect(try await pushHeadOut(d, TopicPartition(d.base.changelogTopic, 0)) > 0, "the changelog lost its head")

        let second = RunningWorker(d.settings(worker: 0))
        try await eventually("restored, or ended", within: .seconds(60)) { second.worker.isReady || second.hasEnded }
        if second.hasEnded {
            Issue.record("the second worker ended: \(await second.stop())")
            return
        }
        let after = await state(second.worker)
        #expect(after.summaries == before.summaries)
        #expect(after.alerts == before.alerts)
        #expect((try? await second.stop().get()) != nil)
    }

    @Test func aChangelogThatLostItsHeadWithoutASnapshotStopsTheWorker() async throws {
        let d = try Deployment("changelog-lost")
        #expect(try await pushHeadOut(d, TopicPartition(d.base.changelogTopic, 0)) > 0)
        let worker = RunningWorker(d.settings(worker: 0))
        let end = try await worker.ended(within: .seconds(60))
        guard case .failure(WorkerError.stateLost(let message)) = end else {
            Issue.record("run should end with WorkerError.stateLost, ended with \(end)")
            return
        }
        #expect(message.contains("cannot be restored") && message.contains(d.base.changelogTopic), "\(message)")
        #expect(!worker.worker.isReady)
    }

    /// Several workers on the embedded broker can outrun stage 2 by more than the ~5 MiB the
    /// broker keeps of the sequenced log: stage 2 must not skip the dropped records silently.
    @Test func sequencedRecordsDroppedBeforeStageTwoReadThemStopTheWorker() async throws {
        let d = try Deployment("sequenced-lost")
        // Records appended behind stage 2's committed offset, then dropped with it.
        let sequenced = TopicPartition(d.base.sequencedTopic, 0)
        let committed = try await processFixture(d, thenCommittedOffsetOf: sequenced)
        #expect(committed > 0)
        #expect(try await pushHeadOut(d, sequenced, past: committed) > committed)

        let second = RunningWorker(d.settings(worker: 0))
        try await d.produce([
            (
                "79",
                Array(
                    Fixture.update(
                        "79", "2022-08", "KCDP", "actual", plan: 8 * Fixture.billion,
                        executed: 4 * Fixture.billion, revision: 1
                    ).utf8)
            )
        ])
        let end = try await second.ended(within: .seconds(60))
        guard case .failure(WorkerError.stateLost(let message)) = end else {
            Issue.record("run should end with WorkerError.stateLost, ended with \(end)")
            return
        }
        #expect(
            message.contains("were dropped before it read them") && message.contains(d.base.sequencedTopic),
            "\(message)")
    }

    /// Input the broker dropped before the worker read it is in no total: the worker says so.
    @Test func inputDroppedBeforeTheWorkerReadItIsReported() async throws {
        let d = try Deployment("input-lost", inputPartitions: 1)
        let input = TopicPartition(d.base.inputTopic, 0)
        let committed = try await processFixture(d, thenCommittedOffsetOf: input)
        #expect(committed > 0)
        #expect(
            try await pushHeadOut(
                d, input, past: committed, value: Array(repeating: UInt8(ascii: "x"), count: 64 * 1024), perChunk: 2)
                > committed)

        let errors = ErrorLog()
        let second = RunningWorker(d.settings(worker: 0), logger: errors.logger)
        try await eventually("the dropped input reported", within: .seconds(60)) {
            errors.all.contains { $0.contains("input records were dropped") && $0.contains("offsets=\(committed)..<") }
        }
        #expect((try? await second.stop().get()) != nil)
    }

    /// A restore asked to stop before the end yields no state rather than part of one (the
    /// worker then aggregates nothing before it stops).
    @Test func aRestoreStoppedBeforeTheEndGivesNoState() async throws {
        let d = try Deployment("restore-stop")
        try await d.producing { producer in
            for i in 0..<10 {
                try await producer.send(
                    topic: d.base.changelogTopic, partition: 0, key: Array("alert/national/199\(i)/KCQG".utf8),
                    value: nil)
            }
        }
        let profile = ClusterProfile(.embeddedBroker, settings: d.base)
        let reader = ChangelogReader(settings: d.base, profile: profile, logger: quietLogger)
        #expect(try await reader.readAll(stop: { true }) == nil)
        #expect(try await reader.readAll(stop: { false })?.records.count == 10)
    }
}
