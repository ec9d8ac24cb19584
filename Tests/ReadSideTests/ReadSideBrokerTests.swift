import Domain
import Foundation
import Kafka
import Logging
import Pipeline
import Prometheus
import ReadSide
import SchemaTestSupport
import Service
import ServiceLifecycle
import Testing
import TestSupport

/// The read side against the embedded broker: built from the output topics the workers publish.
@Suite(.serialized) struct ReadSideBrokerTests {
    /// A follower of its own over `topics`, until `body` returns.
    func following<T>(_ topics: TestTopics, _ body: (ReadModel) async throws -> T) async throws -> T {
        let model = ReadModel()
        let follower = ReadSideFollower(settings: topics.readSideSettings(), model: model, logger: quietLogger)
        let task = Task { try await follower.run() }
        defer { task.cancel() }
        let result = try await body(model)
        task.cancel()
        _ = await task.result
        return result
    }

    /// The owner's own state, as JSON arrays.
    static func ownState(_ worker: Worker) async -> (summaries: String, alerts: String)? {
        guard let summaries = await worker.summaries(region: nil, year: nil, period: nil),
            let alerts = await worker.alerts(activeOnly: true)
        else { return nil }
        return (jsonArray(summaries), jsonArray(alerts))
    }

    /// Each object of a JSON array, keys sorted, without `computed_at` (the owner stamps it per query).
    static func canonical(_ array: String) throws -> [String] {
        guard let objects = try JSONSerialization.jsonObject(with: Data(array.utf8)) as? [[String: Any]] else {
            return []
        }
        return try objects.map { object in
            var object = object
            object["computed_at"] = nil
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// Every summary the sample stream ends with, aggregated in-process by the real decoder and
    /// aggregator: the state the workers reach once they processed all of it.
    static func sampleStreamFinalSummaries() throws -> [String] {
        let configuration = try AggregatorConfiguration.bundled()
        let decoder = ExecutionUpdateDecoder(registries: configuration.registries)
        let aggregator = Aggregator(configuration: configuration)
        for (_, line) in try LineReader(path: try #require(SampleStream.bundledPath)) {
            guard case .success(let update) = decoder.decode(payload: line, key: InputKey.of(line)) else { continue }
            _ = aggregator.apply(update)
        }
        _ = aggregator.endBatch(at: "2026-01-01T00:00:00Z")
        var summaries: [[UInt8]] = []
        for scope in SummaryScope.all {
            for year in aggregator.fiscalYears {
                for period in aggregator.summaryPeriods(scope, fiscalYear: year) {
                    if let s = aggregator.summary(scope, fiscalYear: year, periodEnd: period, computedAt: "-") {
                        summaries.append(s)
                    }
                }
            }
        }
        return try canonical(jsonArray(summaries))
    }

    @Test func everyWorkerServesTheSameSummariesAndAlertsAndARestartRebuildsThem() async throws {
        let final = try Self.sampleStreamFinalSummaries()
        let topics = try TestTopics("readside")
        let first = try RunningService(arguments: topics.runArguments(worker: 1))
        let second = try RunningService(arguments: topics.runArguments(worker: 2))
        let ports = (try await first.port(), try await second.port())
        try await topics.produceSampleStream()

        // Bounded wait until both workers answer exactly the owner's own state: every summary
        // and every active alert of the sample stream.
        let workers = [first, second].compactMap { $0.started?.worker }
        var answers: [String: String] = [:]
        var owners = 0
        var difference = "nothing compared yet"
        do {
            try await eventually("both workers serve the owner's state", within: .seconds(90)) {
                var own: (summaries: String, alerts: String)?
                owners = 0
                for worker in workers {
                    if let state = await Self.ownState(worker) { own = state; owners += 1 }
                }
                guard let own, own.summaries != "[]" else { return false }
                answers = [:]
                for query in ["/v1/summaries", "/v1/alerts"] {
                    let a = try await LoopbackHTTP.fetch(port: ports.0, path: query)
                    let b = try await LoopbackHTTP.fetch(port: ports.1, path: query)
                    guard a.status == 200, a.body == b.body else { return false }
                    answers[query] = a.body
                }
                let served = try Self.canonical(answers["/v1/summaries"]!)
                let expected = try Self.canonical(own.summaries)
                let servedAlerts = try Self.canonical(answers["/v1/alerts"]!)
                let expectedAlerts = try Self.canonical(own.alerts)
                let firstDifferent = zip(served, expected).first { $0 != $1 }
                difference =
                    "summaries \(served.count) served, \(expected.count) owned; alerts \(servedAlerts.count) "
                    + "served, \(expectedAlerts.count) owned; first different summary: "
                    + (firstDifferent.map { "\($0.0.prefix(300)) ≠ \($0.1.prefix(300))" } ?? "none")
                return served == expected && servedAlerts == expectedAlerts && served == final
            }
        } catch {
            Issue.record("\(difference)")
            throw error
        }
        #expect(owners == 1, "exactly one worker owns stage 2")
        for query in [
            "/v1/summaries?year=2021", "/v1/summaries?region=mien-trung-tay-nguyen&year=2022&period=2022-07",
            "/v1/alerts?state=all",
        ] {
            let a = try await LoopbackHTTP.fetch(port: ports.0, path: query)
            let b = try await LoopbackHTTP.fetch(port: ports.1, path: query)
            #expect(a.status == 200 && a.body == b.body, "\(query)")
        }
        // The sample stream carries the contract's seed.
        let seedPath = "/v1/summaries?region=mien-trung-tay-nguyen&period=2022-07"
        let seed = try await LoopbackHTTP.fetch(port: ports.1, path: seedPath).body
        #expect(
            seed.contains(#""execution_rate_pct":28.44"#) && seed.contains(#""execution_rate_pct":12.11"#)
                && seed.contains(#""execution_rate_pct":39.38"#), "\(seed.prefix(400))")
        let summaries = try #require(answers["/v1/summaries"]), alerts = try #require(answers["/v1/alerts"])
        #expect(alerts.contains(#""alert_id":"region:mien-trung-tay-nguyen/2022/KCQG""#))

        try await Self.checkAgainstOpenAPI(port: ports.1)
        // The alert series of the process's registry show the active alerts, as scraped.
        let scraped = try await LoopbackHTTP.fetch(port: ports.0, path: "/metrics").body
        #expect(scraped.contains(#"khuyencong_alert_active{"#))
        try await first.stop()
        try await second.stop()

        // A new read side (a restart) rebuilds the same view from the topics alone.
        try await following(topics) { model in
            try await eventually("caught up", within: .seconds(30)) { model.readiness.isReady }
            #expect(jsonArray(model.summaries().map(\.bytes)) == summaries)
            #expect(jsonArray(model.alerts(activeOnly: true).map(\.bytes)) == alerts)
        }
    }

    /// Real responses of every endpoint, checked against the OpenAPI document the server serves
    /// (`Tests/OpenAPI/check_responses.py`: openapi-spec-validator, then jsonschema per response).
    static func checkAgainstOpenAPI(port: Int) async throws {
        let paths = [
            "/v1/summaries", "/v1/summaries?region=mien-trung-tay-nguyen&year=2022&period=2022-07",
            "/v1/summaries?year=02022", "/v1/alerts", "/v1/alerts?state=all", "/v1/alerts?state=x", "/healthz",
            "/readyz", "/metrics", "/", "/?year=2022&month=13", "/khu-vuc/nam", "/khu-vuc/north",
            "/export/bao-cao.csv?year=2022&month=7", "/export/khu-vuc/mien-trung-tay-nguyen.csv",
            "/export/khu-vuc/north.csv", "/openapi.yaml",
        ]
        var samples: [[String: Any]] = []
        for path in paths {
            let r = try await LoopbackHTTP.fetch(port: port, path: path)
            let type =
                r.head.split(separator: "\r\n").first { $0.hasPrefix("content-type:") }?.dropFirst(13)
                .trimmingCharacters(in: .whitespaces) ?? ""
            samples.append(["method": "get", "path": path, "status": r.status, "content_type": type, "body": r.body])
        }
        let spec = try await LoopbackHTTP.fetch(port: port, path: "/openapi.yaml").body
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(spec.utf8).write(to: dir.appendingPathComponent("openapi.yaml"))
        try JSONSerialization.data(withJSONObject: samples).write(to: dir.appendingPathComponent("samples.json"))
        let script = DashboardBrowserTests.packageRoot.appendingPathComponent("Tests/OpenAPI/check_responses.py").path
        let result = try await Python.run([
            script, dir.appendingPathComponent("openapi.yaml").path,
            dir.appendingPathComponent("samples.json").path,
        ])
        #expect(result.status == 0, "\(result.text)\(result.errors)")
        #expect(result.text.contains("\(paths.count) responses checked, 0 problems"), "\(result.text)")
    }

    @Test func aMissingTopicLeavesTheReadSideNotReadyWithTheReason() async throws {
        let topics = try TestTopics("readside-missing")
        var settings = topics.readSideSettings()
        settings.alertsTopic = "no-such-topic-\(topics.id)"
        let model = ReadModel()
        let follower = ReadSideFollower(settings: settings, model: model, logger: quietLogger)
        let task = Task { try await follower.run() }
        defer { task.cancel() }
        try await eventually("the reason (\(model.readiness))", within: .seconds(30)) {
            if case .failed = model.readiness { return true } else { return false }
        }
        #expect(model.readiness.explanation.contains("no-such-topic-\(topics.id)"), "\(model.readiness.explanation)")
        #expect(model.readiness.explanation.contains("UNKNOWN_TOPIC_OR_PART"), "\(model.readiness.explanation)")
    }

    @Test func emptyTopicsAreReadyAtOnceAndNewOutputsArriveLive() async throws {
        let topics = try TestTopics("readside-live")
        try await following(topics) { model in
            try await eventually("ready on empty topics", within: .seconds(30)) { model.readiness.isReady }
            // Produce a summary straight to the topic: the follower picks it up live.
            var config = KafkaProducerConfiguration(bootstrapServers: topics.bootstrap)
            config.lingerMs = 1
            let producer = try KafkaProducer(configuration: config, logger: quietLogger)
            let summary = Seed.outputs().summaries[0]
            try await producer.send(topic: topics.summaries, key: Array(summary.key.utf8), value: summary.value)
            try await producer.flush()
            await producer.shutdown()
            try await eventually("live summary", within: .seconds(10)) { model.summaries().map(\.key) == [summary.key] }
        }
    }
}
