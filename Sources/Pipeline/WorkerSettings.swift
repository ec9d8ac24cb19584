import Domain
import Foundation

/// How outputs and input offsets are tied together.
public enum DeliveryGuarantee: String, Sendable, Hashable, CaseIterable {
    /// Transactional producer, input offsets in the transaction, read_committed consumer.
    case exactlyOnce = "exactly-once"
    /// No transactions: outputs acknowledged, then the changelog, then offsets committed synchronously.
    case atLeastOnce = "at-least-once"
}

/// Everything a worker needs; the service fills it from flags, environment and config file.
public struct WorkerSettings: Sendable {
    public var brokers: String
    public var groupID: String
    /// The shared input topic, or the prefix of the per-province ones (`inputLayout`).
    public var inputTopic: String
    public var inputLayout: InputTopicLayout
    public var summariesTopic: String
    public var alertsTopic: String
    public var rejectedTopic: String
    public var guarantee: DeliveryGuarantee
    /// Unique per worker process (default `{group-id}-{hostname}`).
    public var transactionalID: String
    /// This worker's stable name: its `group.instance.id` (static membership) on a real cluster;
    /// nil: dynamic membership.
    public var instanceID: String?
    public var batchMaxMessages: Int
    public var batchMaxMilliseconds: Int
    /// Raw librdkafka properties (security, tuning) applied to every client.
    public var kafkaProperties: [String: String]
    public var registries: Registries
    public var rules: AlertRules
    /// How far (records) this worker's stage 1 may run ahead of its own stage 2 before its input
    /// partitions are paused; nil: the cluster profile's (`ClusterProfile.sequencedBacklogLimit`).
    public var maxSequencedBacklog: Int?
    /// The same in bytes of the sequenced partition; nil: the cluster profile's.
    public var maxSequencedBacklogBytes: Int?
    /// How long the batch loop may make no progress while input is waiting before `/healthz`
    /// reports it stuck (`Worker.liveness`).
    public var stallLimit: Duration = defaultStallLimit
    /// Called after each committed batch (benchmarks, tests); nil in production.
    public var batchObserver: (@Sendable (BatchReport) -> Void)?

    /// Test hook: simulate a crash inside a batch.
    var crashPlan: CrashPlan?
    /// Test hook: the changelog budget of `SnapshotSchedule`, on any broker (default
    /// `embeddedChangelogBudget` on the embedded broker; no snapshots on Kafka).
    var changelogBudget: Int?

    /// The contract's defaults; the service's configuration falls back on these.
    public static let defaultGroupID = "khuyencong-aggregator"
    public static let defaultInputTopic = "khuyencong.execution-updates.v1"
    public static let defaultSummariesTopic = "khuyencong.regional-summaries.v1"
    public static let defaultAlertsTopic = "khuyencong.alerts.v1"
    public static let defaultRejectedTopic = "khuyencong.rejected.v1"
    /// A batch is one transaction per stage and one set of summaries, whatever its size: under a
    /// backlog, 15,000 updates per batch measured ~12 % more throughput than 10,000 and 20,000
    /// another ~5–9 % (fewer summaries rebuilt, fewer commits), at peak RSS 135–171 MiB with two
    /// jemalloc arenas; 40,000 stalled (issue #20). Idle, a batch closes after
    /// `defaultBatchMaxMilliseconds` anyway.
    public static let defaultBatchMaxMessages = 20_000
    public static let defaultBatchMaxMilliseconds = 20
    public static let defaultStallLimit = Duration.seconds(60)

    public init(
        brokers: String, groupID: String = defaultGroupID,
        inputTopic: String = defaultInputTopic, inputLayout: InputTopicLayout = .shared,
        summariesTopic: String = defaultSummariesTopic,
        alertsTopic: String = defaultAlertsTopic,
        rejectedTopic: String = defaultRejectedTopic,
        guarantee: DeliveryGuarantee = .exactlyOnce, transactionalID: String? = nil,
        batchMaxMessages: Int = defaultBatchMaxMessages, batchMaxMilliseconds: Int = defaultBatchMaxMilliseconds,
        kafkaProperties: [String: String] = [:], registries: Registries, rules: AlertRules,
        batchObserver: (@Sendable (BatchReport) -> Void)? = nil
    ) {
        self.brokers = brokers
        self.groupID = groupID
        self.inputTopic = inputTopic
        self.inputLayout = inputLayout
        self.summariesTopic = summariesTopic
        self.alertsTopic = alertsTopic
        self.rejectedTopic = rejectedTopic
        self.guarantee = guarantee
        self.transactionalID = transactionalID ?? "\(groupID)-\(Self.hostname())"
        self.batchMaxMessages = batchMaxMessages
        self.batchMaxMilliseconds = batchMaxMilliseconds
        self.kafkaProperties = kafkaProperties
        self.registries = registries
        self.rules = rules
        self.batchObserver = batchObserver
    }

    /// The input topics: one shared topic, or one per unit.
    public var inputTopics: InputTopics { InputTopics(name: inputTopic, layout: inputLayout) }

    /// `{group-id}.sequenced-updates`: every accepted input, in the one order stage 2 aggregates.
    public var sequencedTopic: String { groupID + ".sequenced-updates" }
    /// `{group-id}.state-changelog`: stage 2's state, compacted.
    public var changelogTopic: String { groupID + ".state-changelog" }

    /// Consumer queue sizing, for memory: the prefetched queue holds at most ~8 MiB of messages
    /// (about one full batch of typical updates: with 4 MiB, batches waited for their input;
    /// 12 MiB held ~30 MiB more at peak) and each broker answers a fetch with at most 4 MiB. librdkafka 2.0.2
    /// leaves its fetchers idle for up to 1 s once the queue passes `queued.min.messages` or
    /// `queued.max.messages.kbytes` (issue #2879); `KafkaConsumer` restarts them as soon as the
    /// queue is drained (`FetchRestart`), so reaching the limits costs one fetch round, not a second.
    public static let consumerTuning: [String: String] = clientTuning.merging([
        "queued.min.messages": "50000",
        "queued.max.messages.kbytes": "8192",
        "fetch.error.backoff.ms": "10",
        "fetch.wait.max.ms": "10",
        "fetch.max.bytes": "4194304",
        "max.partition.fetch.bytes": "1048576",
    ]) { $1 }

    /// Producer: a new transaction's first AddPartitionsToTxn is often answered
    /// CONCURRENT_TRANSACTIONS while the previous commit settles; retry it after 10 ms, not 100.
    public static let producerTuning: [String: String] = clientTuning.merging(["retry.backoff.ms": "10"]) { $1 }

    /// Every client (producer, consumer, changelog reader): TCP_NODELAY. With Nagle on, a small
    /// request written while an earlier one is unacknowledged waits for the peer's delayed ACK
    /// (~40 ms); a worker that waits for acks every batch pays that on each round trip.
    public static let clientTuning: [String: String] = ["socket.nagle.disable": "true"]

    /// The sequenced log is always lz4-compressed, whatever the outputs use: its records repeat
    /// the same member names and shrink to about a third, so the embedded broker's ~5 MiB window
    /// holds more of it, and a real cluster stores and sends less. Stage 1 compresses its packs
    /// itself (`SequencedPack`), so the producer does not compress them again.
    public static let sequencedTopicTuning: [String: String] = ["compression.type": "none"]

    /// For the embedded broker only (in-process, or `khuyencong broker` found by its cluster id):
    /// one request in flight per connection. The mock serves every broker from one thread; with
    /// several in flight `bench pipeline` measured a few percent less throughput (11 interleaved
    /// pairs: 222,000 against 229,000 updates/s), and the same latency. Fetches wait 5 ms, not 10:
    /// the mock holds a fetch that finds nothing for the whole wait, even when data arrives (p50
    /// produce → summary 36 → 27 ms, at the cost of more idle fetches).
    public static let embeddedBrokerTuning: [String: String] = [
        "max.in.flight.requests.per.connection": "1", "fetch.wait.max.ms": "5",
    ]

    /// The embedded broker keeps only the last 5 MiB of the changelog and never compacts it:
    /// stage 2 writes its whole state again (a snapshot) before the log after the last one
    /// passes 4 MiB (`SnapshotSchedule`). The 1 MiB left over covers the state growing within
    /// a batch and errors in the size estimates. The state must stay well under 2 MiB as a snapshot
    /// (`bench pipeline`'s four years of every province: ~0.9 MB). A compacted topic on Kafka
    /// needs no snapshots.
    static let embeddedChangelogBudget = 4 << 20

    static func hostname() -> String { ProcessInfo.processInfo.hostName }
}
