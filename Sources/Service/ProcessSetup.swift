import Logging
import Metrics
import Prometheus

/// Process-wide logging and metrics, set once by each command.
public enum ProcessSetup {
    /// swift-log to standard error through `RedactingLogHandler` (so no library, librdkafka's
    /// log callback included, can print a configured secret), as text or one JSON object per
    /// line; and swift-metrics into a Prometheus registry that `/metrics` serves, with HELP
    /// texts, `khuyencong_build_info` and the `process_*` metrics.
    public static func bootstrap(level: Logger.Level, format: RunConfiguration.LogFormat = .text, secrets: [String])
        -> PrometheusCollectorRegistry
    {
        let redactor = Redactor(secrets: secrets)
        LoggingSystem.bootstrap { label in
            let output: any LogHandler =
                switch format {
                case .text: StreamLogHandler.standardError(label: label)
                case .json: JSONLogHandler(label: label)
                }
            return RedactingLogHandler(underlying: output, redactor: redactor, level: level)
        }
        let registry = makeRegistry()
        MetricsSystem.bootstrap(metricsFactory(registry))
        processMetrics = ProcessMetrics(registry: registry)
        return registry
    }

    /// A registry holding `khuyencong_build_info`.
    static func makeRegistry() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        let help = "1, labelled with the khuyencong release and the librdkafka version it runs on."
        registry.makeGauge(
            descriptor: MetricDescriptions.descriptor("khuyencong_build_info", help: help),
            labels: [("version", BuildInfo.version), ("librdkafka_version", BuildInfo.librdkafkaVersion)]
        ).set(Double(1))
        return registry
    }

    /// Kept for the life of the process: its timer refreshes the `process_*` metrics.
    nonisolated(unsafe) private static var processMetrics: ProcessMetrics?

    static func metricsFactory(_ registry: PrometheusCollectorRegistry) -> DescribedMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000].map
        { .milliseconds($0) }
        factory.valueHistogramBuckets["khuyencong_batch_messages"] = [
            1, 10, 100, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000,
        ]
        return DescribedMetricsFactory(factory)
    }
}
