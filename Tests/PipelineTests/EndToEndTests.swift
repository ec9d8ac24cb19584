import Domain
import Foundation
import Kafka
@testable import Pipeline
import ServiceLifecycleTestKit
import Testing
import TestSupport

/// Checks the final outputs of a deployment against the hand-computed fixture.
func expectFixtureOutputs(_ d: Deployment, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let summaries = try await d.latestSummaries()
    #expect(Set(summaries.keys) == Set(Fixture.expectedSummaries.keys), sourceLocation: sourceLocation)
    for (key, expected) in Fixture.expectedSummaries {
        let s = summaries[key]
        let totals = s?["totals"] as? [String: Any]
        #expect(s?["revision"] as? Int == expected.revision, "\(key) revision", sourceLocation: sourceLocation)
        #expect(
            (totals?["executed_vnd"] as? NSNumber)?.int64Value == expected.executed, "\(key) executed",
            sourceLocation: sourceLocation)
        #expect(
            (totals?["plan_vnd"] as? NSNumber)?.int64Value == expected.plan, "\(key) plan",
            sourceLocation: sourceLocation)
        #expect(
            (totals?["execution_rate_pct"] as? NSNumber)?.doubleValue == expected.rate, "\(key) rate",
            sourceLocation: sourceLocation)
        #expect(s?["status"] as? String == expected.status, "\(key) status", sourceLocation: sourceLocation)
    }
    let alerts = try await d.latest(d.base.alertsTopic)
    let active = alerts.filter { ($0.value["state"] as? String) != "resolved" }.mapValues {
        $0["severity"] as? String ?? ""
    }
    #expect(active == Fixture.expectedActiveAlerts, sourceLocation: sourceLocation)
}

@Suite(.serialized) struct EndToEndTests {
    @Test(arguments: [DeliveryGuarantee.exactlyOnce, .atLeastOnce])
    func streamInContractOutputsOut(guarantee: DeliveryGuarantee) async throws {
        let d = try Deployment("e2e", guarantee: guarantee)
        let running = RunningWorker(d.settings(worker: 0))
        try await d.produce(Fixture.stream)
        let expectedKeys = Set(Fixture.expectedSummaries.keys)
        try await eventually("final summaries", within: .seconds(40)) {
            let current = (await running.worker.summaries(region: nil, year: 2022, period: nil) ?? []).compactMap(parse)
            let revisions = Dictionary(
                current.map { s in
                    (
                        "\(s["region"] as? String ?? "")/2022/\(s["period_end"] as? String ?? "")",
                        s["revision"] as? Int ?? 0
                    )
                }, uniquingKeysWith: max)
            return Set(revisions.keys) == expectedKeys
                && expectedKeys.allSatisfy { revisions[$0] == Fixture.expectedSummaries[$0]?.revision }
        }
        #expect(running.worker.isReady)
        // Queries filter as asked.
        #expect(await running.worker.summaries(region: "ca-nuoc", year: 2022, period: "2022-07")?.count == 1)
        // Holding the state, a query that matches nothing is an empty list (nil would mean "no state").
        #expect(await running.worker.summaries(region: "bac", year: 2021, period: nil)?.isEmpty == true)
        let active = (await running.worker.alerts(activeOnly: true) ?? []).compactMap(parse)
        #expect(Set(active.compactMap { $0["alert_id"] as? String }) == Set(Fixture.expectedActiveAlerts.keys))

        let stopped = await running.stop()
        #expect((try? stopped.get()) != nil, "graceful stop returns normally")
        #expect(!running.worker.isReady)

        try await expectFixtureOutputs(d)
        let rejected = try await d.read(d.base.rejectedTopic).compactMap { m in parse(m.value).map { (m.key, $0) } }
        #expect(rejected.map { $0.1["reason"] as? String ?? "" }.sorted() == Fixture.expectedRejections.sorted())
        for (key, record) in rejected {
            #expect(record["schema"] as? String == "khuyencong.rejected.v1")
            #expect(record["topic"] as? String == d.base.inputTopic)
            #expect(key != nil && record["key"] as? String == key.map { String(decoding: $0, as: UTF8.self) })
            let original = Fixture.stream.first {
                $0.key == record["key"] as? String
                    && Data($0.value ?? []).base64EncodedString() == record["payload_base64"] as? String
            }
            #expect(original != nil, "payload_base64 carries the original bytes")
        }
    }
}

@Suite struct ShutdownTests {
    /// ServiceLifecycle's graceful shutdown (what SIGTERM triggers in a ServiceGroup) ends `run`
    /// normally after the open batch, leaving the group.
    @Test func gracefulShutdownReturnsNormally() async throws {
        let d = try Deployment("graceful")
        let worker = Worker(settings: d.settings(worker: 0), logger: quietLogger)
        try await testGracefulShutdown { trigger in
            let run = Task { try await worker.run() }
            try await d.produce(Fixture.stream)
            try await waitForFixtureState([worker])
            let ended = Flag()
            Task {
                _ = try? await run.value; ended.set()
            }
            trigger.triggerGracefulShutdown()
            // Bounded: a run that only a cancellation would end fails here.
            try await eventually("run ended by the graceful shutdown", within: .seconds(30)) { ended.isSet }
            try await run.value
            #expect(!worker.isReady)
        }
    }
}

@Suite struct RestartTests {
    /// A worker stopped gracefully and started again resumes where it left off: no input is read
    /// twice, so no rejection and no summary repeats (the contract's "exactly one rejected
    /// record"). The embedded broker ignores offsets sent in transactions, so this also shows
    /// that exactly-once stores them another way there.
    @Test(arguments: [DeliveryGuarantee.exactlyOnce, .atLeastOnce])
    func aGracefulRestartRepeatsNothing(guarantee: DeliveryGuarantee) async throws {
        let d = try Deployment("restart", guarantee: guarantee)
        let first = RunningWorker(d.settings(worker: 0))
        try await d.produce(Fixture.stream)
        try await waitForFixtureState([first.worker])
        #expect((try? await first.stop().get()) != nil)

        let second = RunningWorker(d.settings(worker: 0))
        // A marker in every input partition: once all are rejected, stage 1 has read whatever
        // the second worker reads again before them.
        let markers = try await d.produceToEveryPartition { Array("marker \($0)".utf8) }
        try await eventually("the markers' rejections", within: .seconds(60)) {
            let payloads = Set(
                try await d.read(d.base.rejectedTopic).compactMap { parse($0.value)?["payload_base64"] as? String })
            return markers.allSatisfy { payloads.contains(Data($0).base64EncodedString()) }
        }
        // A new report behind them in the sequenced log: once aggregated, stage 2 has too.
        let late = Fixture.update(
            "79", "2022-08", "KCDP", "actual", plan: 8 * Fixture.billion, executed: 4 * Fixture.billion, revision: 1)
        try await d.produce([("79", Array(late.utf8))])
        try await eventually("the late report aggregated", within: .seconds(60)) {
            await second.worker.summaries(region: "nam", year: 2022, period: "2022-08")?.isEmpty == false
        }
        #expect((try? await second.stop().get()) != nil)

        let reasons = try await d.read(d.base.rejectedTopic).compactMap { parse($0.value)?["reason"] as? String }
        #expect(reasons.sorted() == (Fixture.expectedRejections + markers.map { _ in "malformed_json" }).sorted())
        #expect(try await expectRepeatsIdentical(d) == 0)
    }
}
