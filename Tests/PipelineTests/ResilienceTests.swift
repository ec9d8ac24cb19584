import Domain
import Foundation
import Kafka
@testable import Pipeline
import Testing
import TestSupport

/// Waits until the worker holds the fixture's final summaries (bounded).
func waitForFixtureState(_ workers: [Worker], limit: Duration = .seconds(60)) async throws {
    try await eventually("fixture summaries", within: limit) {
        var revisions: [String: Int] = [:]
        for w in workers {
            for s in (await w.summaries(region: nil, year: 2022, period: nil) ?? []).compactMap(parse) {
                revisions["\(s["region"] as? String ?? "")/2022/\(s["period_end"] as? String ?? "")"] =
                    s["revision"] as? Int ?? 0
            }
        }
        return Fixture.expectedSummaries.allSatisfy { revisions[$0.key] == $0.value.revision }
            && revisions.count == Fixture.expectedSummaries.count
    }
}

/// Waits until the summaries topic itself holds the fixture's final summaries. The workers'
/// state is ahead of the topic by the batch being published, and a worker stopped while that
/// publish still retries (a broker just back) aborts it: its summaries come again only after a
/// restart, so a test that reads the topic after `stop()` waits for them here first.
func waitForFixtureOutputs(_ d: Deployment, limit: Duration = .seconds(60)) async throws {
    try await eventually("fixture summaries on the topic", within: limit, every: .milliseconds(250)) {
        let summaries = try await d.latestSummaries()
        return summaries.count == Fixture.expectedSummaries.count
            && Fixture.expectedSummaries.allSatisfy { summaries[$0.key]?["revision"] as? Int == $0.value.revision }
    }
}

/// A summary without `computed_at`, comparable.
func content(_ json: [String: Any]) -> NSDictionary {
    var j = json
    j["computed_at"] = nil
    return j as NSDictionary
}

/// Every (key, revision) seen more than once on the summaries topic carries the same content;
/// returns how many repeats there were.
@discardableResult
func expectRepeatsIdentical(_ d: Deployment, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Int {
    var seen: [String: NSDictionary] = [:]
    var repeats = 0
    for m in try await d.read(d.base.summariesTopic) {
        guard let key = m.key.map({ String(decoding: $0, as: UTF8.self) }), let json = parse(m.value) else { continue }
        let id = "\(key)#\(json["revision"] as? Int ?? -1)"
        let c = content(json)
        if let earlier = seen[id] {
            repeats += 1
            #expect(earlier == c, "\(id) repeated with other content", sourceLocation: sourceLocation)
        } else {
            seen[id] = c
        }
    }
    return repeats
}

@Suite struct CrashTests {
    /// The worker dies inside a batch (no abort, no commit, no group leave of its own); a new
    /// worker takes over from Kafka alone.
    @Test(arguments: CrashPoint.allCases, [DeliveryGuarantee.exactlyOnce, .atLeastOnce])
    func crashInsideABatchLosesNothing(point: CrashPoint, guarantee: DeliveryGuarantee) async throws {
        try await crashAndRecover(at: point, guarantee: guarantee)
    }

    /// The same with a changelog snapshot in every batch (the embedded broker's defence against
    /// its 5 MiB window): the restore starts from the snapshot of a batch the crash makes redo.
    @Test(arguments: CrashPoint.allCases)
    func crashWhileWritingSnapshotsLosesNothing(point: CrashPoint) async throws {
        try await crashAndRecover(at: point, guarantee: .atLeastOnce, changelogBudget: 1)
    }

    func crashAndRecover(at point: CrashPoint, guarantee: DeliveryGuarantee, changelogBudget: Int? = nil) async throws {
        let d = try Deployment("crash", guarantee: guarantee, batchMaxMessages: 2)
        try await d.produce(Fixture.stream)
        var settings = d.settings(worker: 0, crash: CrashPlan(point: point, afterSegments: 1))
        settings.changelogBudget = changelogBudget
        let first = RunningWorker(settings)
        let end = try await first.ended(within: .seconds(60))
        guard case .failure(let error) = end, error is SimulatedCrash else {
            Issue.record("the first worker should have crashed at \(point), ended with \(end)")
            return
        }
        settings = d.settings(worker: 0)
        settings.changelogBudget = changelogBudget
        let second = RunningWorker(settings)
        try await waitForFixtureState([second.worker])
        #expect((try? await second.stop().get()) != nil)

        try await expectFixtureOutputs(d)
        let repeats = try await expectRepeatsIdentical(d)
        if point == .afterOutputs {
            #expect(repeats > 0, "the batch cut short after its outputs is redone, so its summaries repeat")
        }
    }
}

@Suite struct GroupTests {
    /// Several workers in one group, one of them (the stage-2 owner) leaving mid-stream, end with
    /// the same summaries as a single worker fed the same stream.
    @Test(arguments: [2, 3])
    func workersShareTheStream(count: Int) async throws {
        let registries = try Shared.registries.get()
        let stream = SyntheticUpdates.generate(count: 2_000, registries: registries, seed: UInt64(count))
            .map { (key: Optional(String(decoding: $0.key, as: UTF8.self)), value: Optional($0.payload)) }
        let reference = try Deployment("ref\(count)", inputPartitions: 6, batchMaxMessages: 300)
        let group = try Deployment("group\(count)", inputPartitions: 6, batchMaxMessages: 300)
        let single = RunningWorker(reference.settings(worker: 0))
        let workers = (0..<count).map { RunningWorker(group.settings(worker: $0)) }

        let half = stream.count / 2
        try await reference.produce(stream)
        try await group.produce(Array(stream[..<half]))
        // Wait until stage 2 has aggregated part of the stream, then its owner leaves.
        var owner: RunningWorker?
        try await eventually("a stage-2 owner with state", within: .seconds(60)) {
            // One worker at most holds the aggregation state; the others answer nil, not an empty list.
            var holders = 0
            for w in workers {
                guard let summaries = await w.worker.summaries(region: nil, year: nil, period: nil) else { continue }
                holders += 1
                if !summaries.isEmpty { owner = w }
            }
            #expect(holders <= 1)
            return owner != nil
        }
        #expect((try? await owner?.stop().get()) != nil)
        try await group.produce(Array(stream[half...]))

        // The single worker and the group must both reach what the aggregator alone makes of the stream.
        let expected = try Self.aggregatedDirectly(stream, registries: registries)
        _ = try await finalSummaries([single.worker], settleOn: expected)
        let remaining = workers.filter { $0 !== owner }
        _ = try await finalSummaries(remaining.map(\.worker), settleOn: expected)
        for w in remaining + [single] { #expect((try? await w.stop().get()) != nil) }

        let fromReference = try await reference.latestSummaries().mapValues(content)
        let fromGroup = try await group.latestSummaries().mapValues(content)
        #expect(fromReference.count > 50)
        #expect(fromGroup == fromReference)
    }

    /// Waits until the workers' current summaries (key → content) equal `target`.
    func finalSummaries(_ workers: [Worker], settleOn target: [String: NSDictionary]) async throws -> [String:
        NSDictionary]
    {
        var current: [String: NSDictionary] = [:]
        try await eventually("summaries equal to the aggregator's", within: .seconds(90)) {
            current = [:]
            for w in workers {
                for s in (await w.summaries(region: nil, year: nil, period: nil) ?? []).compactMap(parse) {
                    current[Self.key(s)] = content(s)
                }
            }
            return current == target
        }
        return current
    }

    static func key(_ s: [String: Any]) -> String {
        "\(s["region"] as? String ?? "")/\(s["fiscal_year"] as? Int ?? 0)/\(s["period_end"] as? String ?? "")"
    }

    /// The stream applied in order to one aggregator, without Kafka: every final summary.
    static func aggregatedDirectly(_ stream: [(key: String?, value: [UInt8]?)], registries: Registries) throws
        -> [String: NSDictionary]
    {
        let decoder = ExecutionUpdateDecoder(registries: registries)
        let aggregator = Aggregator(
            configuration: AggregatorConfiguration(registries: registries, rules: try Shared.rules.get()))
        for m in stream {
            guard case .success(let update) = decoder.decode(payload: m.value, key: m.key.map { Array($0.utf8) }) else {
                continue
            }
            _ = aggregator.apply(update)
        }
        _ = aggregator.endBatch(at: "2026-01-01T00:00:00.000Z")
        var result: [String: NSDictionary] = [:]
        for scope in SummaryScope.all {
            for year in aggregator.fiscalYears {
                for period in aggregator.summaryPeriods(scope, fiscalYear: year) {
                    guard
                        let json = parse(aggregator.summary(scope, fiscalYear: year, periodEnd: period, computedAt: ""))
                    else { continue }
                    result[key(json)] = content(json)
                }
            }
        }
        return result
    }
}

@Suite struct PoisonTests {
    static func json(_ members: String) -> [UInt8] { Array(members.utf8) }

    /// One input per rejection reason (the conflict needs the good 49 KCQG r1 before it).
    static let poison: [(key: String?, value: [UInt8]?, reason: String)] = {
        let base = Fixture.update("46", "2022-07", "KCQG", "actual", plan: 1_000, executed: 100, revision: 1)
        func with(_ from: String, _ to: String) -> [UInt8] { Array(base.replacingOccurrences(of: from, with: to).utf8) }
        let huge = "{\"pad\":\"" + String(repeating: "x", count: 70_000) + "\"}"
        return [
            ("46", Array(huge.utf8), "too_large"),
            ("46", nil, "malformed_json"),
            ("46", json("[1,2]"), "schema_mismatch"),
            ("46", with(",\"revision\":1", ""), "missing_field"),
            ("46", with("\"revision\":1", "\"revision\":\"1\""), "invalid_field"),
            ("46", with("\"plan_vnd\":1000", "\"plan_vnd\":1000000000000001"), "amount_out_of_range"),
            ("46", with("\"fiscal_year\":2022", "\"fiscal_year\":2023"), "period_out_of_range"),
            ("01", base.utf8.map { $0 }, "key_mismatch"),
            ("99", with("\"province\":\"46\"", "\"province\":\"99\""), "unknown_province"),
            (
                "46",
                with(
                    "\"executed_vnd\":100",
                    "\"executed_vnd\":100,\"activities\":[{\"category\":\"training\",\"executed_vnd\":99}]"),
                "activities_mismatch"
            ),
            (
                "49",
                Array(
                    Fixture.update(
                        "49", "2022-07", "KCQG", "actual", plan: 10 * Fixture.billion, executed: 1, revision: 1
                    ).utf8), "conflicting_revision"
            ),
        ]
    }()

    @Test func everyBadMessageIsRejectedOnceAndTheRestCounts() async throws {
        let d = try Deployment("poison", inputPartitions: 3, batchMaxMessages: 3)
        // Interleaved: good, bad, good, bad, …; the conflict last (after the report it contradicts).
        let bad = Self.poison.dropLast()
        var stream: [(key: String?, value: [UInt8]?)] = []
        for i in 0..<max(Fixture.good.count, bad.count) {
            if i < Fixture.good.count { stream.append(Fixture.good[i]) }
            if i < bad.count { stream.append((bad[i].key, bad[i].value)) }
        }
        stream.append((Self.poison.last?.key, Self.poison.last?.value))
        #expect(stream.count == Fixture.good.count + Self.poison.count)

        let running = RunningWorker(d.settings(worker: 0))
        try await d.produce(stream)
        try await waitForFixtureState([running.worker])
        try await eventually("all rejections", within: .seconds(30)) {
            try await d.read(d.base.rejectedTopic).count >= Self.poison.count
        }
        #expect((try? await running.stop().get()) != nil)

        try await expectFixtureOutputs(d)
        let rejected = try await d.read(d.base.rejectedTopic).compactMap { parse($0.value) }
        #expect(rejected.map { $0["reason"] as? String ?? "" }.sorted() == Self.poison.map(\.reason).sorted())
        let origins = rejected.map { "\($0["partition"] as? Int ?? -1)@\($0["offset"] as? Int ?? -1)" }
        #expect(Set(origins).count == rejected.count, "each bad message rejected once")
        let tooLarge = rejected.first { $0["reason"] as? String == "too_large" }
        #expect(tooLarge?["payload_truncated"] as? Bool == true)
        #expect((tooLarge?["payload_base64"] as? String).flatMap { Data(base64Encoded: $0) }?.count == 65_536)
        // The conflict is found by stage 2, which holds the report's facts, not the report: its
        // rejection still carries the original bytes, the key, and a detail naming the report.
        let conflict = rejected.first { $0["reason"] as? String == "conflicting_revision" }
        let conflictPayload = try #require(Self.poison.last?.value)
        #expect((conflict?["payload_base64"] as? String).flatMap { Data(base64Encoded: $0) } == Data(conflictPayload))
        #expect(conflict?["key"] as? String == "49")
        let reportID = try #require(parse(conflictPayload)?["report_id"] as? String)
        #expect((conflict?["detail"] as? String)?.contains(reportID) == true)
    }
}

@Suite struct OutageTests {
    /// A broker goes down for a few seconds mid-stream; the worker waits and resumes by itself.
    @Test func brokerDownMidStreamLosesNothing() async throws {
        // A cluster of its own: taking a broker down must not disturb the other suites.
        let d = try Deployment("outage", batchMaxMessages: 2, broker: EmbeddedBroker(brokers: 3, logger: quietLogger))
        let running = RunningWorker(d.settings(worker: 0))
        let stream = Fixture.stream
        try await d.produce(Array(stream.prefix(5)))
        try await eventually("first summaries", within: .seconds(60)) {
            await !(running.worker.summaries(region: nil, year: nil, period: nil) ?? []).isEmpty
        }
        try d.broker.setBrokerDown(1)
        let rest = Task { try await d.produce(Array(stream.dropFirst(5))) }
        try await Task.sleep(for: .seconds(3))  // the outage itself, not a synchronisation
        try d.broker.setBrokerUp(1)
        try await rest.value
        try await waitForFixtureState([running.worker], limit: .seconds(90))
        try await waitForFixtureOutputs(d)
        #expect((try? await running.stop().get()) != nil)
        try await expectFixtureOutputs(d)
        try await expectRepeatsIdentical(d)
    }
}

@Suite struct FatalErrorTests {
    /// A fenced producer cannot go on: `run` ends with a clear fatal error instead of retrying.
    @Test func fencedProducerEndsRun() async throws {
        // Its own broker: the injected error must not reach other suites.
        let broker = try EmbeddedBroker(brokers: 3, logger: quietLogger)
        let d = try Deployment("fenced", broker: broker)
        broker.pushRequestErrors(.endTxn, [.producerFenced])
        let running = RunningWorker(d.settings(worker: 0))
        try await d.produce(Fixture.stream)
        let end = try await running.ended(within: .seconds(60))
        guard case .failure(let error) = end, case WorkerError.fatal(let message) = error else {
            Issue.record("run should end with WorkerError.fatal, ended with \(end)")
            return
        }
        #expect(message.contains("FENCED"))
    }
}
