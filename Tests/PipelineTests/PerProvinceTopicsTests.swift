import Domain
import Foundation
import Kafka
@testable import Pipeline
import Testing
import TestSupport

/// Names, subscription and units of the input topics, without a broker.
@Suite struct InputTopicsTests {
    let perProvince = InputTopics(name: "khuyencong.execution-updates.v1", layout: .perProvince)

    @Test func theSubscriptionIsARegexOverTwoDigitCodesUnderTheEscapedPrefix() {
        #expect(perProvince.subscription == #"^khuyencong\.execution-updates\.v1\.[0-9]{2}$"#)
        #expect(InputTopics(name: "in-1", layout: .shared).subscription == "in-1")
    }

    @Test func aTopicsUnitIsItsTwoDigitSuffix() {
        #expect(perProvince.unit(of: "khuyencong.execution-updates.v1.49") == "49")
        #expect(perProvince.unit(of: "khuyencong.execution-updates.v1") == nil)
        #expect(perProvince.unit(of: "khuyencong.execution-updates.v1.4") == nil)
        #expect(perProvince.unit(of: "khuyencong.execution-updates.v1.490") == nil)
        #expect(perProvince.unit(of: "khuyencong.execution-updates.v1.4a") == nil)
        #expect(perProvince.unit(of: "khuyencong.execution-updates.v1x49") == nil)
        #expect(perProvince.contains("khuyencong.execution-updates.v1.01"))
        #expect(!perProvince.contains("khuyencong.execution-updates.v1"))
        let shared = InputTopics(name: "khuyencong.execution-updates.v1", layout: .shared)
        #expect(shared.contains("khuyencong.execution-updates.v1"))
        #expect(shared.unit(of: "khuyencong.execution-updates.v1.49") == nil)
        #expect(!shared.contains("khuyencong.execution-updates.v1.49"))
    }

    @Test func everyDistinctCodeOfBothRegistriesHasATopic() throws {
        let registries = try Shared.registries.get()
        let names = perProvince.names(registries: registries)
        let codes = Set(registries.r2004.units.map(\.code)).union(registries.r2025.units.map(\.code))
        #expect(names.count == codes.count)
        #expect(names.count == 63)
        #expect(Set(names.compactMap(perProvince.unit(of:))) == codes)
        var settings = WorkerSettings(brokers: "", registries: registries, rules: try Shared.rules.get())
        settings.inputLayout = .perProvince
        let plan = TopicPlan(settings).topics
        #expect(plan.filter { perProvince.contains($0.name) }.allSatisfy { $0.partitions == 1 })
        #expect(plan.count == 63 + 5)
        #expect(!plan.contains { $0.name == settings.inputTopic })
    }
}

/// The worker on per-province input topics, against the embedded broker.
@Suite(.serialized) struct PerProvinceTopicsTests {
    /// Fixture.bad on the senders' own topics: the key ≠ province one goes to its key's unit.
    static let bad: [(unit: String, key: String?, value: [UInt8]?)] =
        Fixture.bad.map { ($0.key ?? "", $0.key, $0.value) }

    /// Hà Nội's report, forged onto Quảng Nam's topic: key and province agree, and its revision
    /// would lock the revision key for good if it were accepted.
    static let forged: (unit: String, key: String?, value: [UInt8]?) =
        (
            "49", "01",
            Array(
                Fixture.update(
                    "01", "2022-07", "KCQG", "actual", plan: 20 * Fixture.billion,
                    executed: 19 * Fixture.billion, revision: 9_007_199_254_740_991
                ).utf8)
        )

    @Test func honestUpdatesAggregateAsOnTheSharedTopicAndAForgeryChangesNothing() async throws {
        let d = try Deployment("provinces", inputLayout: .perProvince)
        let running = RunningWorker(d.settings(worker: 0))
        // The forgery first: accepted, it would hide Hà Nội's real report (revision 1) for good.
        try await d.produce(toUnitTopics: [Self.forged])
        try await d.produce(toUnitTopics: Fixture.good.map { ($0.key ?? "", $0.key, $0.value) } + Self.bad)
        try await waitForFixtureState([running.worker])
        // khuyencong_recovery_seconds: from the start to the first committed batch (the group's first join ~3 s).
        let recovery = try #require(running.worker.context.recoverySeconds)
        #expect(recovery > 0 && recovery < 30, "recovery took \(recovery) s")
        let expected = Set(Fixture.expectedRejections + ["key_mismatch"])
        try await eventually("every rejection", within: .seconds(30)) {
            try await d.read(d.base.rejectedTopic).count == Fixture.expectedRejections.count + 1
        }
        #expect((try? await running.stop().get()) != nil)

        try await expectFixtureOutputs(d)
        let rejected = try await d.read(d.base.rejectedTopic).compactMap { parse($0.value) }
        #expect(Set(rejected.compactMap { $0["reason"] as? String }) == expected)
        #expect(rejected.count == Fixture.expectedRejections.count + 1)
        let forgery = rejected.first {
            $0["topic"] as? String == d.base.inputTopics.topic(ofUnit: "49")
                && $0["reason"] as? String == "key_mismatch"
        }
        #expect(forgery?["field"] as? String == "/province")
        #expect(forgery?["key"] as? String == "01")
        let detail = forgery?["detail"] as? String ?? ""
        #expect(detail.contains("\"01\"") && detail.contains("\"49\""), "the detail names both codes: \(detail)")
        // Every rejection names the unit topic it came from.
        #expect(rejected.allSatisfy { d.base.inputTopics.contains($0["topic"] as? String ?? "") })
    }

    @Test func aUnitTopicCreatedAfterTheWorkerStartedIsRead() async throws {
        let late = "01"
        // librdkafka re-reads the cluster's topics every second here (5 minutes by default).
        let d = try Deployment(
            "provinces-late", inputLayout: .perProvince, uncreatedUnits: [late],
            kafkaProperties: ["topic.metadata.refresh.interval.ms": "1000"])
        let lateTopic = d.base.inputTopics.topic(ofUnit: late)
        let running = RunningWorker(d.settings(worker: 0))
        let early = Fixture.good.filter { $0.key != late }
        try await d.produce(toUnitTopics: early.map { ($0.key ?? "", $0.key, $0.value) })
        try await eventually("the worker's state of the early units", within: .seconds(30)) {
            let summaries =
                (await running.worker.summaries(
                    region: "mien-trung-tay-nguyen", year: 2022,
                    period: "2022-07") ?? []).compactMap(parse)
            return summaries.first?["revision"] as? Int == 4
        }
        try d.broker.createTopic(lateTopic, partitions: 1)
        let lateUpdates = Fixture.good.filter { $0.key == late }
        try await d.produce(toUnitTopics: lateUpdates.map { ($0.key ?? "", $0.key, $0.value) })
        try await waitForFixtureState([running.worker])
        // Lag is reported for owned partitions only, and its series go with them (#19).
        let metrics = running.worker.context.metrics
        try await eventually("lag reported", within: .seconds(20)) {
            metrics.lagPartitions.contains { $0.topic == lateTopic }
        }
        #expect(
            metrics.lagPartitions.allSatisfy { p in
                d.base.inputTopics.contains(p.topic) || p.topic == d.base.sequencedTopic
            })
        #expect((try? await running.stop().get()) != nil)
        #expect(metrics.lagPartitions.isEmpty, "leaving the group revoked every partition and removed its lag series")
        try await expectFixtureOutputs(d)
    }
}
