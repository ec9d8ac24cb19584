import Kafka
import Logging

/// What differs between the embedded broker (librdkafka's mock cluster, in this process or
/// `khuyencong broker` in another) and a real Kafka cluster. Decided once per worker, from the
/// cluster id the connection reports (`detect`); the batch loop only reads the values.
struct ClusterProfile: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// The mock: ~5 MiB kept per partition, no compaction, offsets sent to a transaction ignored.
        case embeddedBroker
        case kafkaCluster
    }

    let kind: Kind
    /// How far this worker's stage 1 may run ahead of its own stage 2 before its input
    /// partitions are paused.
    let sequencedBacklogLimit: BacklogLimit
    /// The changelog budget of `SnapshotSchedule`; nil: stage 2 writes no snapshots.
    let snapshotBudget: Int?
    /// With transactions, also commit the offsets with the consumer once the transaction is
    /// committed: the embedded broker ignores offsets sent in a transaction.
    let commitsOffsetsAfterTransaction: Bool
    /// A changelog whose head is gone and that holds no complete snapshot means lost state
    /// (the embedded broker); a compacted topic on Kafka may legitimately start past 0.
    let changelogHeadLossIsStateLoss: Bool
    /// librdkafka properties under the worker's explicit ones (`WorkerSettings.kafkaProperties`).
    let clientTuning: [String: String]

    init(_ kind: Kind, settings: WorkerSettings) {
        self.kind = kind
        switch kind {
        case .embeddedBroker:
            // An explicit limit replaces the window's.
            let explicit = settings.maxSequencedBacklog != nil || settings.maxSequencedBacklogBytes != nil
            sequencedBacklogLimit = BacklogLimit(
                records: settings.maxSequencedBacklog,
                bytes: explicit ? settings.maxSequencedBacklogBytes : Self.embeddedBacklogBytes)
            snapshotBudget = settings.changelogBudget ?? WorkerSettings.embeddedChangelogBudget
            commitsOffsetsAfterTransaction = true
            changelogHeadLossIsStateLoss = true
            clientTuning = WorkerSettings.embeddedBrokerTuning
        case .kafkaCluster:
            sequencedBacklogLimit = BacklogLimit(
                records: settings.maxSequencedBacklog ?? 3 * max(1, settings.batchMaxMessages),
                bytes: settings.maxSequencedBacklogBytes)
            snapshotBudget = settings.changelogBudget
            commitsOffsetsAfterTransaction = false
            changelogHeadLossIsStateLoss = false
            clientTuning = [:]
        }
    }

    /// The embedded broker keeps only ~5 MiB of the sequenced partition, counted as it holds
    /// them: stage 1's compressed packs (~38 B per record of the bench's updates). Stage 1 may
    /// append one more batch before it pauses, so the backlog peaks near the limit plus a batch.
    /// 2.5 MiB holds far more than the two batches outstanding between batches of 20,000 such
    /// updates (~1.5 MB: one being published, one just appended), so steady load does not pause,
    /// and leaves ~1.8 MiB of the window beyond a peak with one such batch (a record's size no
    /// longer depends on the update's: larger updates need no more). Counted in records,
    /// the limit could not tell small updates from large ones: 8,000 records (under one batch)
    /// paused the input after nearly every batch (issue #20, docs/PERFORMANCE.md). A real
    /// cluster keeps its log, so there the limit only stops stage 1 from running far ahead:
    /// three batches, since two are outstanding between batches anyway. A limit under that
    /// would pause the input every other batch.
    static let embeddedBacklogBytes = 5 << 19

    /// `base` under this profile's tuning under the worker's explicit properties.
    func properties(_ base: [String: String], _ settings: WorkerSettings) -> [String: String] {
        base.merging(clientTuning) { $1 }.merging(settings.kafkaProperties) { $1 }
    }

    /// Connects with the worker's properties and waits (bounded) for the cluster id. Throws
    /// `timedOut` when none arrives (the worker retries, as for any client that cannot start).
    static func detect(
        _ settings: WorkerSettings, logger: Logger, stop: @Sendable () -> Bool,
        within limit: Duration = .seconds(30)
    ) async throws(KafkaError) -> ClusterProfile {
        var configuration = KafkaConsumerConfiguration(
            bootstrapServers: settings.brokers, groupID: settings.groupID + ".probe")
        configuration.clientID = "khuyencong-worker"
        configuration.properties = WorkerSettings.clientTuning.merging(settings.kafkaProperties) { $1 }
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let deadline = ContinuousClock.now + limit
        var clusterID = consumer.clusterID
        // librdkafka has no event for the first metadata: look again every 5 ms, up to the deadline.
        // The empty polls in between throw what ends the wait at once (refused credentials).
        do {
            while clusterID == nil && ContinuousClock.now < deadline && !stop() {
                _ = try await consumer.poll(maxMessages: 1, timeout: .milliseconds(5))
                clusterID = consumer.clusterID
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        guard let clusterID else {
            throw KafkaError(code: .timedOut, message: "no cluster metadata from \(settings.brokers) within \(limit)")
        }
        let kind: Kind = EmbeddedBroker.isEmbedded(clusterID: clusterID) ? .embeddedBroker : .kafkaCluster
        logger.info("cluster profile", metadata: ["cluster_id": "\(clusterID)", "profile": "\(kind)"])
        return ClusterProfile(kind, settings: settings)
    }
}
