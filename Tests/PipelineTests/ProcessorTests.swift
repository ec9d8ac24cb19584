import Domain
import Foundation
import Logging
@testable import Pipeline
import Testing

/// The batch processor with no broker (a topology test driver in spirit): input messages go in
/// batch by batch, the sequenced records stage 1 appends come back to stage 2 in the next batch
/// (as they do through Kafka), and the changelog records are kept so a "restart" can rebuild
/// stage 2 from them alone.
final class TopologyDriver {
    /// Message bytes at stable addresses for the `MessageRef`s pointing at them.
    private final class Bytes {
        let buffer: UnsafeMutableRawBufferPointer
        init(_ bytes: [UInt8]) {
            buffer = .allocate(byteCount: max(1, bytes.count), alignment: 1)
            buffer.copyBytes(from: bytes)
        }
        deinit { buffer.deallocate() }
        func view(_ count: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[0..<count]) }
    }

    private struct Stored {
        let offset: Int64
        let timestampMillis: Int64
        let key: [UInt8]?
        let value: [UInt8]
    }

    let settings: WorkerSettings
    private(set) var stage: AggregateStage
    private let validate: ValidateStage
    private var nextInputOffset: Int64 = 0
    /// Every input message's bytes by offset: where a conflict's rejection reads them back.
    private var inputValues: [Int64: [UInt8]] = [:]
    /// The sequenced log: everything stage 1 appended, with its offsets.
    private var log: [Stored] = []
    /// How far stage 2 has read the log (the committed sequenced offset).
    private var committed: Int64 = 0
    private(set) var changelog: [ChangelogRecord] = []
    private(set) var outputs = Outputs()
    private var clock: Int64 = 1_700_000_000_000

    struct Outputs {
        var summaries: [EncodedMessage] = []
        var alerts: [EncodedMessage] = []
        var rejected: [[UInt8]] = []
    }

    init(settings: WorkerSettings) throws {
        self.settings = settings
        stage = Self.makeStage(settings)
        validate = ValidateStage(
            decoder: ExecutionUpdateDecoder(registries: settings.registries),
            metrics: PipelineMetrics())
        try stage.restore(RestoredChangelog(records: [], tailBytes: 0), committedOffset: nil, snapshotBudget: nil)
    }

    private static func makeStage(_ settings: WorkerSettings) -> AggregateStage {
        AggregateStage(
            configuration: AggregatorConfiguration(registries: settings.registries, rules: settings.rules),
            metrics: PipelineMetrics(), logger: quietLogger)
    }

    /// One batch: `inputs` through stage 1, and the log stage 2 has not read yet through stage 2.
    /// `logTimestampMillis`: the Kafka timestamp of the sequenced records this batch appends
    /// (their segment's batch time); default a clock that ticks per message.
    @discardableResult
    func pipe(_ inputs: [(key: String?, value: [UInt8]?)], logTimestampMillis: Int64? = nil) async -> ProcessedBatch {
        var kept: [Bytes] = []
        func ref(offset: Int64, timestamp: Int64, key: [UInt8]?, value: [UInt8]?) -> MessageRef {
            let k = key.map { bytes -> UnsafeRawBufferPointer in
                let b = Bytes(bytes)
                kept.append(b)
                return b.view(bytes.count)
            }
            let v = value.map { bytes -> UnsafeRawBufferPointer in
                let b = Bytes(bytes)
                kept.append(b)
                return b.view(bytes.count)
            }
            return MessageRef(partition: 0, offset: offset, timestampMillis: timestamp, key: k, value: v)
        }
        var input = BatchInput(inputTopic: settings.inputTopic)
        for m in inputs {
            clock += 1
            let key = m.key.map { Array($0.utf8) }
            input.inputs.append(ref(offset: nextInputOffset, timestamp: clock, key: key, value: m.value))
            inputValues[nextInputOffset] = m.value
            nextInputOffset += 1
        }
        for s in log where s.offset >= committed {
            input.sequenced.append(ref(offset: s.offset, timestamp: s.timestampMillis, key: s.key, value: s.value))
        }
        let processed = await BatchProcessor(validate: validate, aggregate: stage).process(input)
        withExtendedLifetime(kept) {}
        if let commit = processed.aggregated.commitOffset { committed = commit }
        clock += 1
        for pack in processed.validated.sequenced {
            let timestamp = logTimestampMillis ?? clock
            log.append(Stored(offset: Int64(log.count), timestampMillis: timestamp, key: nil, value: pack))
        }
        changelog += processed.aggregated.changelog
        outputs.summaries += processed.aggregated.summaries
        outputs.alerts += processed.aggregated.alerts
        outputs.rejected += processed.validated.rejected.map(\.value)
        outputs.rejected += processed.aggregated.rejected.map { r in
            switch r {
            case .ready(_, let value): value
            case .conflict(let facts, let origin):
                StageTwoRejection.conflictRecord(
                    facts, origin: origin, original: inputValues[origin.offset],
                    decoder: ExecutionUpdateDecoder(registries: settings.registries))
            }
        }
        return processed
    }

    /// Runs batches until stage 2 has read the whole log.
    func drain() async {
        while committed < Int64(log.count) { await pipe([]) }
    }

    /// A new stage 2 restored from the changelog records alone (folded as the changelog reader
    /// folds them), reading on from the committed sequenced offset.
    func restart() throws {
        var fold = ChangelogFold()
        for record in changelog { try fold.add(record) }
        stage = Self.makeStage(settings)
        try stage.restore(
            RestoredChangelog(records: fold.records, tailBytes: fold.tailBytes),
            committedOffset: committed, snapshotBudget: nil)
    }

    /// The latest message per key, JSON-parsed, without the wall-clock members.
    static func latest(_ messages: [EncodedMessage]) -> [String: NSDictionary] {
        var result: [String: NSDictionary] = [:]
        for m in messages {
            guard var json = parse(m.value) else { continue }
            json["computed_at"] = nil
            result[m.key] = json as NSDictionary
        }
        return result
    }
}

@Suite struct ProcessorTests {
    func settings() throws -> WorkerSettings {
        WorkerSettings(
            brokers: "", groupID: "g", inputTopic: "in", summariesTopic: "s", alertsTopic: "a",
            rejectedTopic: "r", registries: try Shared.registries.get(), rules: try Shared.rules.get())
    }

    /// The hand-computed fixture, one message per batch: the summaries, the active alerts and
    /// the rejections are the contract's.
    @Test func theFixtureGivesTheHandComputedOutputs() async throws {
        let driver = try TopologyDriver(settings: settings())
        for m in Fixture.stream { await driver.pipe([m]) }
        await driver.drain()

        let summaries = TopologyDriver.latest(driver.outputs.summaries)
        #expect(Set(summaries.keys) == Set(Fixture.expectedSummaries.keys))
        for (key, expected) in Fixture.expectedSummaries {
            let s = summaries[key]
            let totals = s?["totals"] as? [String: Any]
            #expect(s?["revision"] as? Int == expected.revision, "\(key) revision")
            #expect((totals?["executed_vnd"] as? NSNumber)?.int64Value == expected.executed, "\(key) executed")
            #expect((totals?["plan_vnd"] as? NSNumber)?.int64Value == expected.plan, "\(key) plan")
            #expect((totals?["execution_rate_pct"] as? NSNumber)?.doubleValue == expected.rate, "\(key) rate")
            #expect(s?["status"] as? String == expected.status, "\(key) status")
        }
        let alerts = TopologyDriver.latest(driver.outputs.alerts)
        let active = alerts.filter { ($0.value["state"] as? String) != "resolved" }
            .mapValues { $0["severity"] as? String ?? "" }
        #expect(active == Fixture.expectedActiveAlerts)
        let reasons = driver.outputs.rejected.compactMap { parse($0)?["reason"] as? String }
        #expect(reasons.sorted() == Fixture.expectedRejections.sorted())
    }

    /// Stage 2 restarted from its changelog records after every batch emits exactly what one
    /// that never stopped emits (summaries, alerts, rejections), whatever the batch sizes.
    @Test(arguments: [1, 2, 3, 11])
    func aRestartFromTheChangelogChangesNoOutput(batchSize: Int) async throws {
        let stream = Fixture.stream + Fixture.stream.reversed()
        let straight = try TopologyDriver(settings: settings())
        let restarted = try TopologyDriver(settings: settings())
        for start in stride(from: 0, to: stream.count, by: batchSize) {
            let batch = Array(stream[start..<min(start + batchSize, stream.count)])
            await straight.pipe(batch)
            await restarted.pipe(batch)
            try restarted.restart()
        }
        await straight.drain()
        await restarted.drain()
        #expect(!straight.outputs.summaries.isEmpty && !straight.outputs.alerts.isEmpty)
        #expect(straight.outputs.summaries.map(\.key) == restarted.outputs.summaries.map(\.key))
        #expect(straight.outputs.alerts.map(\.key) == restarted.outputs.alerts.map(\.key))
        #expect(TopologyDriver.latest(straight.outputs.summaries) == TopologyDriver.latest(restarted.outputs.summaries))
        #expect(TopologyDriver.latest(straight.outputs.alerts) == TopologyDriver.latest(restarted.outputs.alerts))
        let reasons = { (d: TopologyDriver) in d.outputs.rejected.compactMap { parse($0)?["reason"] as? String } }
        #expect(reasons(straight) == reasons(restarted))
    }

    /// Stage 2 aggregates up to the end of the last complete segment and commits the first
    /// record after it: a batch whose segment marker has not arrived yet aggregates nothing.
    @Test func stageTwoWaitsForTheSegmentMarker() async throws {
        let driver = try TopologyDriver(settings: settings())
        let first = await driver.pipe(Array(Fixture.good.prefix(3)))
        #expect(first.validated.sequencedRecords == 3)
        #expect(first.aggregated.read == 0 && first.aggregated.segments == 0)
        let second = await driver.pipe([])
        #expect(second.aggregated.read == 3 && second.aggregated.segments == 1 && second.aggregated.records == 3)
        #expect(second.aggregated.commitOffset == 1)
        #expect(!second.aggregated.summaries.isEmpty && !second.aggregated.changelog.isEmpty)
    }
}
