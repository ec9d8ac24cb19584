import CoreMetrics
import Prometheus

/// The HELP text of every metric the service exposes. swift-metrics has no help text, and
/// swift-prometheus 2.4.1's facade registers every family with an empty one (and refuses, by
/// crashing, a second registration of a name with a different text), so the help lives here and
/// `DescribedMetricsFactory` hands it to the registry with the family's first registration.
/// The read side's alert series are registered directly, with their help, by `AlertSeries`.
public enum MetricDescriptions {
    public static let help: [String: String] = [
        "khuyencong_updates_consumed_total": "Input messages read from the input topic(s).",
        "khuyencong_updates_accepted_total": "Updates that changed a held report.",
        "khuyencong_updates_duplicate_total": "Updates with the held revision and the same content, ignored.",
        "khuyencong_updates_stale_total": "Updates with a lower revision than held, ignored.",
        "khuyencong_updates_rejected_total": "Rejected records published, by the contract's reason.",
        "khuyencong_summaries_emitted_total": "Regional and national summaries published, by region.",
        "khuyencong_alerts_emitted_total": "Alert transitions published (raised, updated, resolved).",
        "khuyencong_alerts_active":
            "Active under-execution alerts by region and severity (provinces under their region).",
        "khuyencong_batch_duration_seconds": "Time of one batch, from its poll to its commit.",
        "khuyencong_batch_messages": "Messages per batch.",
        "khuyencong_transaction_commit_seconds":
            "Time of one Kafka transaction commit (exactly-once) or offset commit.",
        "khuyencong_state_revision_keys":
            "Revision keys held in the stage-2 aggregation state (0 off the stage-2 owner).",
        "khuyencong_ready": "1 when joined to the group and the state is restored (the same as /readyz), else 0.",
        "khuyencong_consumer_fetch_restarts_total":
            "Fetchers restarted after librdkafka 2.0.2 left them idle (issue #2879).",
        "khuyencong_input_dropped_total": "Input records the broker dropped before the worker read them.",
        "khuyencong_consumer_lag": "Messages behind the end of a partition this worker consumes.",
        "khuyencong_recovery_seconds": "Seconds from the worker's start to its first committed batch.",
    ]

    /// swift-prometheus's name-and-help pair for `name` (the name whole, no unit suffix added).
    public static func descriptor(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}

/// swift-prometheus's `PrometheusMetricsFactory`, but every family is registered with its HELP
/// text from `MetricDescriptions` (histogram buckets as configured on the wrapped factory).
public struct DescribedMetricsFactory: MetricsFactory {
    public let wrapped: PrometheusMetricsFactory
    let help: [String: String]

    public init(_ wrapped: PrometheusMetricsFactory, help: [String: String] = MetricDescriptions.help) {
        self.wrapped = wrapped
        self.help = help
    }

    private var registry: PrometheusCollectorRegistry { wrapped.registry }
    private func describe(_ name: String) -> MetricNameDescriptor {
        MetricDescriptions.descriptor(name, help: help[name] ?? "")
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        let (label, dimensions) = wrapped.nameAndLabelSanitizer(label, dimensions)
        return registry.makeCounter(descriptor: describe(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)])
        -> any FloatingPointCounterHandler
    {
        let (label, dimensions) = wrapped.nameAndLabelSanitizer(label, dimensions)
        return registry.makeCounter(descriptor: describe(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        let (label, dimensions) = wrapped.nameAndLabelSanitizer(label, dimensions)
        guard aggregate else { return registry.makeGauge(descriptor: describe(label), labels: dimensions) }
        let buckets = wrapped.valueHistogramBuckets[label] ?? wrapped.defaultValueHistogramBuckets
        return registry.makeValueHistogram(descriptor: describe(label), labels: dimensions, buckets: buckets)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        let (label, dimensions) = wrapped.nameAndLabelSanitizer(label, dimensions)
        return registry.makeGauge(descriptor: describe(label), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let (label, dimensions) = wrapped.nameAndLabelSanitizer(label, dimensions)
        let buckets = wrapped.durationHistogramBuckets[label] ?? wrapped.defaultDurationHistogramBuckets
        return registry.makeDurationHistogram(descriptor: describe(label), labels: dimensions, buckets: buckets)
    }

    public func destroyCounter(_ handler: any CounterHandler) { wrapped.destroyCounter(handler) }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        wrapped.destroyFloatingPointCounter(handler)
    }
    public func destroyRecorder(_ handler: any RecorderHandler) { wrapped.destroyRecorder(handler) }
    public func destroyMeter(_ handler: any MeterHandler) { wrapped.destroyMeter(handler) }
    public func destroyTimer(_ handler: any TimerHandler) { wrapped.destroyTimer(handler) }
}
