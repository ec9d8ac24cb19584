import Logging
import Metrics
import Prometheus

/// Process-wide logging and metrics, set once by each command.
public enum ProcessSetup {
    /// swift-log to standard error through `RedactingLogHandler` (so no library, librdkafka's
    /// log callback included, can print a configured secret), and swift-metrics into a
    /// Prometheus registry that `/metrics` serves.
    public static func bootstrap(level: Logger.Level, secrets: [String]) -> PrometheusCollectorRegistry {
        let redactor = Redactor(secrets: secrets)
        LoggingSystem.bootstrap { label in
            RedactingLogHandler(underlying: StreamLogHandler.standardError(label: label), redactor: redactor, level: level)
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(metricsFactory(registry))
        return registry
    }

    static func metricsFactory(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000].map { .milliseconds($0) }
        factory.valueHistogramBuckets["khuyencong_batch_messages"] = [1, 10, 100, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000]
        return factory
    }
}
