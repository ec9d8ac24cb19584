import Domain
import Kafka
import Metrics
import Synchronization

/// The worker's metrics under the names of the service spec. Handles are created once; labelled
/// families are cached per label value so the hot path never allocates a handle.
final class PipelineMetrics: Sendable {
    let consumed = Counter(label: "khuyencong_updates_consumed_total")
    let accepted = Counter(label: "khuyencong_updates_accepted_total")
    let duplicate = Counter(label: "khuyencong_updates_duplicate_total")
    let stale = Counter(label: "khuyencong_updates_stale_total")
    let batchDuration = Metrics.Timer(label: "khuyencong_batch_duration_seconds")
    let batchMessages = Recorder(label: "khuyencong_batch_messages", aggregate: true)
    let commitDuration = Metrics.Timer(label: "khuyencong_transaction_commit_seconds")
    let revisionKeys = Gauge(label: "khuyencong_state_revision_keys")
    let ready = Gauge(label: "khuyencong_ready")
    /// The consumer's restarts of fetchers librdkafka 2.0.2 left idle after a full queue (#2879).
    let fetchRestarts = Counter(label: "khuyencong_consumer_fetch_restarts_total")
    /// Input records the broker dropped before the worker read them (see `BatchCollector.checkInputGap`).
    let inputDropped = Counter(label: "khuyencong_input_dropped_total")

    private let rejectedByReason: [RejectionReason: Counter]
    private let summariesByRegion: [String: Counter]
    private let alertsByTransition: [AlertTransition: Counter]
    private let activeAlerts: [String: Gauge]
    private let lagGauges = Mutex<[TopicPartition: Gauge]>([:])

    static let scopes = RegionID.allCases.map(\.rawValue) + ["ca-nuoc"]
    static let severities = ["warning", "critical"]

    init() {
        rejectedByReason = Dictionary(
            uniqueKeysWithValues: RejectionReason.allCases.map {
                ($0, Counter(label: "khuyencong_updates_rejected_total", dimensions: [("reason", $0.rawValue)]))
            })
        summariesByRegion = Dictionary(
            uniqueKeysWithValues: Self.scopes.map {
                ($0, Counter(label: "khuyencong_summaries_emitted_total", dimensions: [("region", $0)]))
            })
        alertsByTransition = Dictionary(
            uniqueKeysWithValues: AlertTransition.allCases.map {
                ($0, Counter(label: "khuyencong_alerts_emitted_total", dimensions: [("state", $0.rawValue)]))
            })
        var active: [String: Gauge] = [:]
        for scope in Self.scopes {
            for severity in Self.severities {
                active[scope + "|" + severity] = Gauge(
                    label: "khuyencong_alerts_active", dimensions: [("region", scope), ("severity", severity)])
            }
        }
        activeAlerts = active
        ready.record(0)
    }

    /// Seconds from the worker's start to its first committed batch: made then, so the series
    /// is absent (not 0) until there is a value.
    func recovered(afterSeconds seconds: Double) {
        Gauge(label: "khuyencong_recovery_seconds").record(seconds)
    }

    func rejected(_ reason: RejectionReason, count: Int = 1) {
        rejectedByReason[reason]?.increment(by: count)
    }

    /// `key` is the summary key `{region}/{fiscal_year}/{period_end}`.
    func summaryEmitted(key: [UInt8]) {
        let region = String(decoding: key.prefix { $0 != UInt8(ascii: "/") }, as: UTF8.self)
        summariesByRegion[region]?.increment()
    }

    func alertsEmitted(_ transition: AlertTransition, count: Int) {
        alertsByTransition[transition]?.increment(by: count)
    }

    /// Active alerts per (region, severity); province alerts count under their region.
    func setActiveAlerts(_ counts: [String: Int]) {
        for (label, gauge) in activeAlerts { gauge.record(counts[label] ?? 0) }
    }

    static func activeAlertLabel(region: String, severity: String) -> String { region + "|" + severity }

    func lag(topic: String, partition: Int32, value: Int64) {
        let key = TopicPartition(topic, partition)
        let gauge = lagGauges.withLock { gauges in
            if let g = gauges[key] { return g }
            let g = Gauge(
                label: "khuyencong_consumer_lag", dimensions: [("topic", topic), ("partition", String(partition))])
            gauges[key] = g
            return g
        }
        gauge.record(value)
    }

    /// Removes the lag series of a partition this worker no longer owns (not left at its last value).
    func removeLag(_ partition: TopicPartition) {
        lagGauges.withLock { $0.removeValue(forKey: partition) }?.destroy()
    }

    /// Removes the lag series of every partition not in `owned`.
    func keepLag(only owned: Set<TopicPartition>) {
        let gone = lagGauges.withLock { gauges in
            let gone = gauges.filter { !owned.contains($0.key) }
            for key in gone.keys { gauges[key] = nil }
            return gone
        }
        for gauge in gone.values { gauge.destroy() }
    }

    /// Partitions with a lag series (tests).
    var lagPartitions: Set<TopicPartition> { lagGauges.withLock { Set($0.keys) } }
}
