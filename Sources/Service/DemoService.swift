import Foundation
import Kafka
import Logging
import Pipeline
import Prometheus
import ServiceLifecycle

/// `khuyencong demo`: feeds a JSONL file (the bundled sample stream) into the input topic, then
/// redraws the live table twice a second until the group shuts down.
public struct DemoService: Service {
    let started: ServiceRunner.Started
    let samplePath: String
    let metrics: PrometheusCollectorRegistry
    let logger: Logger
    let output: @Sendable (String) -> Void
    let interactive: Bool

    public init(
        started: ServiceRunner.Started, samplePath: String, metrics: PrometheusCollectorRegistry, logger: Logger,
        interactive: Bool, output: @escaping @Sendable (String) -> Void
    ) {
        self.started = started
        self.samplePath = samplePath
        self.metrics = metrics
        self.logger = logger
        self.interactive = interactive
        self.output = output
    }

    public func run() async throws {
        let sent = try await feed()
        if interactive { output("\u{1B}[2J") }
        // Ends on SIGINT/SIGTERM: graceful shutdown cancels this loop.
        await cancelWhenGracefulShutdown {
            var table = LiveTable(bootstrap: started.bootstrap, inputTopic: started.settings.inputTopic)
            table.sampleNote = "Fed \(sent) lines of the synthetic sample stream \(samplePath)."
            var lastScreen = ""
            while !Task.isCancelled {
                table.summaries = decode(
                    LiveTable.Summary.self, await started.worker.summaries(region: nil, year: nil, period: nil) ?? [])
                table.alerts = decode(LiveTable.Alert.self, await started.worker.alerts(activeOnly: true) ?? [])
                started.readModel.flushAlertSeries()
                table.metricsText = metrics.emitToString()
                table.dashboardURL = started.dashboard.current
                let screen = table.render()
                if interactive {
                    output(table.frame())
                } else if screen != lastScreen {
                    output(screen + "\n\n")
                }
                lastScreen = screen
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Produces every line of the sample file, keyed by province, and waits for delivery.
    func feed() async throws -> Int {
        var configuration = KafkaProducerConfiguration(bootstrapServers: started.bootstrap)
        configuration.properties = started.settings.kafkaProperties
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        let inputs = started.settings.inputTopics
        let topic = inputs.subscription
        let summary = try await ProduceJob.run(
            path: samplePath,
            send: { key, value in
                // Per-province topics: a line without a province code has no topic to go to.
                guard let target = ProduceJob.topic(for: key, in: inputs) else { return }
                try await producer.send(topic: target, key: key, value: value)
            }, progress: { _, _ in })
        try await producer.flush()
        await producer.shutdown()
        logger.info("sample stream sent", metadata: ["lines": "\(summary.sent)", "topic": "\(topic)"])
        return summary.sent
    }

    private func decode<T: Decodable>(_ type: T.Type, _ objects: [[UInt8]]) -> [T] {
        let decoder = JSONDecoder()
        return objects.compactMap { try? decoder.decode(T.self, from: Data($0)) }
    }
}
