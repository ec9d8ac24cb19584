import Domain
import Foundation
import Kafka
import Logging
import TestSupport
import Testing

/// `khuyencong serve` as an operator runs it: a real process reading another process's broker.
@Suite(.serialized) struct ServeCommandTests {
    @Test func serveNeedsBrokers() async throws {
        let serve = try ChildProcess(["serve", "--http", "127.0.0.1:0"])
        #expect(try await serve.exitStatus(within: .seconds(30)) == 64)
        let lines = serve.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("--brokers"), "\(serve.stderr)")
    }

    @Test func serveAnswersFromTheOutputTopicsAndStopsOnSIGTERM() async throws {
        let broker = try ChildProcess(["broker"])
        let bootstrap = try await broker.firstLine(within: .seconds(60))
        let port = try freeLoopbackPort()
        let serve = try ChildProcess(["serve", "--brokers", bootstrap, "--http", "127.0.0.1:\(port)"])
        try await eventually("serve ready on empty topics", within: .seconds(60)) {
            (try? LoopbackHTTP.get(port: port, path: "/readyz").status) == 200
        }
        // Outputs as a worker publishes them, from the real aggregator.
        let registries = try Registries.load()
        let rules = try AlertRules.bundled()
        let aggregator = Aggregator(configuration: AggregatorConfiguration(registries: registries, rules: rules))
        for u in SyntheticUpdates.updates(count: 300, registries: registries, seed: 7) { _ = aggregator.apply(u) }
        let out = aggregator.endBatch(at: "2026-01-01T00:00:00Z")
        var config = KafkaProducerConfiguration(bootstrapServers: bootstrap)
        config.lingerMs = 1
        var quiet = Logger(label: "serve.test")
        quiet.logLevel = .critical
        let producer = try KafkaProducer(configuration: config, logger: quiet)
        for s in out.summaries {
            try await producer.send(topic: "khuyencong.regional-summaries.v1", key: Array(s.key.utf8), value: s.value)
        }
        for a in out.alerts {
            try await producer.send(topic: "khuyencong.alerts.v1", key: Array(a.key.utf8), value: a.value)
        }
        try await producer.flush()
        await producer.shutdown()

        let last = try #require(out.summaries.last)
        let region = String(last.key.prefix { $0 != "/" })
        let period = String(last.key.split(separator: "/").last ?? "")
        // Every summary key, each partition read to its latest record (bounded wait).
        let keys = Set(out.summaries.map(\.key)).count
        try await eventually("every summary on /v1", within: .seconds(30)) {
            let all = (try? LoopbackHTTP.get(port: port, path: "/v1/summaries").body) ?? ""
            return all.components(separatedBy: #""schema":"khuyencong.regional-summary.v1""#).count - 1 == keys
        }
        let path = "/v1/summaries?region=\(region)&period=\(period)"
        let expected = "[" + String(decoding: last.value, as: UTF8.self) + "]"
        #expect(try LoopbackHTTP.get(port: port, path: path).body == expected)
        if out.alerts.contains(where: { !String(decoding: $0.value, as: UTF8.self).contains(#""state":"resolved""#) }) {
            #expect(try LoopbackHTTP.get(port: port, path: "/metrics").body.contains("khuyencong_alert_active{"))
        }
        #expect(try LoopbackHTTP.get(port: port, path: "/").body.contains("Khuyến công"))

        serve.signal(SIGTERM)
        #expect(try await serve.exitStatus(within: .seconds(30)) == 0, "\(serve.stderr)")
        broker.signal(SIGTERM)
        #expect(try await broker.exitStatus(within: .seconds(30)) == 0)
    }
}
