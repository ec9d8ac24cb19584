import Domain
import Foundation
import Kafka
import Logging
import Prometheus
import ReadSide
import ServiceLifecycle
import Testing

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

    static func withoutComputedAt(_ json: String) -> String {
        json.replacing(/"computed_at":"[^"]*"/, with: "")
    }

    @Test func everyWorkerServesTheSameSummariesAndAlertsAndARestartRebuildsThem() async throws {
        let topics = try TestTopics("readside")
        let first = try RunningService(arguments: topics.runArguments(worker: 1))
        let second = try RunningService(arguments: topics.runArguments(worker: 2))
        let ports = (try await first.port(), try await second.port())
        try await topics.produce(Seed.updates)

        let path = "/v1/summaries?region=mien-trung-tay-nguyen&year=2022&period=2022-07"
        try await eventually(.seconds(60), "both workers answer the seed") {
            let a = try await LoopbackHTTP.fetch(port: ports.0, path: path), b = try await LoopbackHTTP.fetch(port: ports.1, path: path)
            return a.body.contains(#""execution_rate_pct":28.44"#) && b.body.contains(#""execution_rate_pct":28.44"#)
        }
        // Exactly one worker owns stage 2 (the aggregation state); both answer every /v1 query alike.
        let owners = [first, second].map { $0.started?.worker }.compactMap { $0 }
        var holding = 0
        for worker in owners where await worker.summaries(region: nil, year: nil, period: nil) != nil { holding += 1 }
        #expect(holding == 1)
        var answers: [String: String] = [:]
        for query in ["/v1/summaries", "/v1/summaries?year=2021", path, "/v1/alerts", "/v1/alerts?state=all"] {
            let a = try await LoopbackHTTP.fetch(port: ports.0, path: query), b = try await LoopbackHTTP.fetch(port: ports.1, path: query)
            #expect(a.status == 200 && b.status == 200, "\(query)")
            #expect(a.body == b.body, "\(query)")
            answers[query] = a.body
        }
        let summaries = try #require(answers["/v1/summaries"])
        #expect(summaries.contains(#""KCQG":{"plan_vnd":29172000000,"executed_vnd":3532000000"#))
        #expect(summaries.contains(#""execution_rate_pct":12.11"#) && summaries.contains(#""execution_rate_pct":39.38"#))
        let alerts = try #require(answers["/v1/alerts"])
        #expect(alerts.contains(#""alert_id":"region:mien-trung-tay-nguyen/2022/KCQG""#))
        #expect(alerts.contains("đạt 12,11% kế hoạch năm, thấp hơn ngưỡng 17,50%"))
        // The same content as the owner's own state (apart from computed_at, which it stamps per query).
        for worker in owners {
            guard let own = await worker.summaries(region: "mien-trung-tay-nguyen", year: 2022, period: "2022-07") else { continue }
            let served = Self.withoutComputedAt(try #require(answers[path]))
            #expect(served == Self.withoutComputedAt("[" + String(decoding: own[0], as: UTF8.self) + "]"))
        }
        try await Self.checkAgainstOpenAPI(port: ports.1)
        // The alert series of the process's registry show the active alerts.
        #expect(first.metrics.emitToString().contains(#"khuyencong_alert_active{"#))
        try await first.stop()
        try await second.stop()

        // A new read side (a restart) rebuilds the same view from the topics alone.
        try await following(topics) { model in
            try await eventually(.seconds(30), "caught up") { model.readiness.isReady }
            let again = String(decoding: Array("[".utf8) + model.summaries().map(\.bytes).joined(separator: Array(",".utf8)) + Array("]".utf8),
                               as: UTF8.self)
            #expect(again == summaries)
            let alertsAgain = "[" + model.alerts(activeOnly: true).map { String(decoding: $0.bytes, as: UTF8.self) }.joined(separator: ",") + "]"
            #expect(alertsAgain == alerts)
        }
    }

    /// Real responses of every endpoint, checked against the OpenAPI document the server serves
    /// (`Tests/OpenAPI/check_responses.py`: openapi-spec-validator, then jsonschema per response).
    static func checkAgainstOpenAPI(port: Int) async throws {
        let paths = ["/v1/summaries", "/v1/summaries?region=mien-trung-tay-nguyen&year=2022&period=2022-07",
                     "/v1/summaries?year=02022", "/v1/alerts", "/v1/alerts?state=all", "/v1/alerts?state=x", "/healthz",
                     "/readyz", "/metrics", "/", "/?year=2022&month=13", "/khu-vuc/nam", "/khu-vuc/north",
                     "/export/bao-cao.csv?year=2022&month=7", "/export/khu-vuc/mien-trung-tay-nguyen.csv",
                     "/export/khu-vuc/north.csv", "/openapi.yaml"]
        var samples: [[String: Any]] = []
        for path in paths {
            let r = try await LoopbackHTTP.fetch(port: port, path: path)
            let type = r.head.split(separator: "\r\n").first { $0.hasPrefix("content-type:") }?.dropFirst(13)
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
        let result = try await ChildPython.runAsync([script, dir.appendingPathComponent("openapi.yaml").path,
                                                     dir.appendingPathComponent("samples.json").path])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        #expect(result.output.contains("\(paths.count) responses checked, 0 problems"), "\(result.output)")
    }

    @Test func aMissingTopicLeavesTheReadSideNotReadyWithTheReason() async throws {
        let topics = try TestTopics("readside-missing")
        var settings = topics.readSideSettings()
        settings.alertsTopic = "no-such-topic-\(topics.id)"
        let model = ReadModel()
        let follower = ReadSideFollower(settings: settings, model: model, logger: quietLogger)
        let task = Task { try await follower.run() }
        defer { task.cancel() }
        try await eventually(.seconds(30), "the reason (\(model.readiness))") {
            if case .failed = model.readiness { return true } else { return false }
        }
        #expect(model.readiness.explanation.contains("no-such-topic-\(topics.id)"), "\(model.readiness.explanation)")
        #expect(model.readiness.explanation.contains("UNKNOWN_TOPIC_OR_PART"), "\(model.readiness.explanation)")
    }

    @Test func emptyTopicsAreReadyAtOnceAndNewOutputsArriveLive() async throws {
        let topics = try TestTopics("readside-live")
        try await following(topics) { model in
            try await eventually(.seconds(30), "ready on empty topics") { model.readiness.isReady }
            // Produce a summary straight to the topic: the follower picks it up live.
            var config = KafkaProducerConfiguration(bootstrapServers: topics.bootstrap)
            config.lingerMs = 1
            let producer = try KafkaProducer(configuration: config, logger: quietLogger)
            let summary = Seed.outputs().summaries[0]
            try await producer.send(topic: topics.summaries, key: Array(summary.key.utf8), value: summary.value)
            try await producer.flush()
            await producer.shutdown()
            try await eventually(.seconds(10), "live summary") { model.summaries().map(\.key) == [summary.key] }
        }
    }
}
