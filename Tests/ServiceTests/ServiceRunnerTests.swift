import Foundation
import Logging
import Pipeline
import Prometheus
import ServiceLifecycle
@testable import Service
import Synchronization
import Testing
import TestSupport

/// `khuyencong run` end to end on an embedded broker, in-process.
@Suite(.serialized) struct ServiceRunnerTests {
    /// Feeds the sample stream, waits (bounded) until the worker's summary shows the 2022 seed,
    /// records what it saw and returns, which shuts the group down gracefully.
    final class Seen: Sendable {
        let value = Mutex<[String: String]>([:])
        let printed = Mutex<String?>(nil)
    }

    struct Probe: Service {
        let started: ServiceRunner.Started
        let seen: Seen

        func run() async throws {
            let demo = DemoService(
                started: started, samplePath: SampleStream.bundledPath ?? "", metrics: PrometheusCollectorRegistry(),
                logger: Logger(label: "probe"), interactive: false
            ) { _ in }
            _ = try await demo.feed()
            try await eventually(
                "the 2022-07 summary of mien-trung-tay-nguyen", within: .seconds(60), every: .milliseconds(100)
            ) {
                // The worker's own aggregation state, as the demo's live table reads it.
                let own = await started.worker.summaries(region: "mien-trung-tay-nguyen", year: 2022, period: "2022-07")
                let body = String(decoding: ServiceRunner.jsonArray(own ?? []), as: UTF8.self)
                guard body.contains(#""execution_rate_pct":28.44"#) else { return false }
                let ready = started.worker.isReady
                // The live table reads the worker's own summaries.
                var table = LiveTable(bootstrap: started.bootstrap, inputTopic: started.settings.inputTopic)
                table.summaries = try JSONDecoder().decode([LiveTable.Summary].self, from: Data(body.utf8))
                // And its own alerts, each of which must decode (the demo skips what does not).
                let alerts = await started.worker.alerts(activeOnly: true) ?? []
                table.alerts = try alerts.map { try JSONDecoder().decode(LiveTable.Alert.self, from: Data($0)) }
                let screen = table.render()
                #expect(screen.contains("Active alerts: \(alerts.count)"))
                seen.value.withLock {
                    $0 = ["summary": body, "ready": "\(ready)", "bootstrap": started.bootstrap, "screen": screen]
                }
                return true
            }
        }
    }

    @Test func runsOnTheEmbeddedBrokerAndNeverLogsTheSecret() async throws {
        let secret = "Sup3r-S3cret-Value"
        let keySecret = "KeyPassw0rd-Value"
        let options = try RunFlags.parse([
            "--http", "127.0.0.1:0", "--kafka", "sasl.password=\(secret)", "--log-level", "trace", "--batch-max-ms",
            "5",
        ])
        let configuration = try RunConfiguration.resolve(
            flags: options, environment: ["KHUYENCONG_KAFKA_SSL_KEY_PASSWORD": keySecret])
        let log = CapturedLog()
        let runner = ServiceRunner(
            configuration: configuration, logger: log.logger(secrets: configuration.kafka.secretValues),
            metrics: PrometheusCollectorRegistry())
        let seen = Seen()
        try await runner.run(printBootstrap: { list in seen.printed.withLock { $0 = list } }) { started in
            [Probe(started: started, seen: seen)]
        }
        let result = seen.value.withLock { $0 }
        #expect(result["summary"]?.contains(#""executed_vnd":20700000000"#) == true)
        #expect(result["ready"] == "true")
        let row = result["screen"]?.split(separator: "\n").first { $0.hasPrefix("Miền Trung") }
        #expect(
            row?.contains("2022-07      20,700     72,773   28.44%   12.11%   39.38% 15/15") == true,
            "\(row ?? "no row")")
        #expect(seen.printed.withLock { $0 } == result["bootstrap"])
        #expect(result["bootstrap"]?.split(separator: ",").count == 3)

        let text = log.text
        #expect(text.contains("sasl.password=***"), "the configuration is logged, redacted")
        #expect(!text.contains(secret))
        #expect(!text.contains(keySecret))
        #expect(text.contains("stopped"))
    }

    @Test func aBadRulesFileIsAConfigurationError() async throws {
        let options = try RunFlags.parse(["--rules", "/nonexistent/rules.json", "--http", "127.0.0.1:0"])
        let configuration = try RunConfiguration.resolve(flags: options, environment: [:])
        let runner = ServiceRunner(
            configuration: configuration, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() },
            metrics: PrometheusCollectorRegistry())
        await #expect(throws: ConfigurationError.self) { try await runner.run() }
    }
}
