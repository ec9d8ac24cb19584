import Domain
import Kafka
import Logging

/// Reads `{group-id}.state-changelog` from the beginning to its end (partition EOF, which
/// accounts for transaction markers), keeping the last record of each key (`ChangelogFold`).
struct ChangelogReader {
    let settings: WorkerSettings
    let profile: ClusterProfile
    let logger: Logger

    /// librdkafka's `_PARTITION_EOF`.
    static let partitionEOF = KafkaErrorCode(rawValue: -191)

    /// nil when `stop` asked to stop before the end: part of a changelog is not a state.
    func readAll(stop: @Sendable () -> Bool) async throws -> RestoredChangelog? {
        var configuration = KafkaConsumerConfiguration(
            bootstrapServers: settings.brokers, groupID: settings.groupID + ".restore")
        configuration.properties = profile.properties(WorkerSettings.clientTuning, settings)
        configuration.properties["enable.partition.eof"] = "true"
        configuration.properties["fetch.wait.max.ms"] = configuration.properties["fetch.wait.max.ms"] ?? "10"
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)  // EOF arrives as a consumer "error"
        let consumer = try KafkaConsumer(configuration: configuration, logger: quiet)
        let partition = TopicPartition(settings.changelogTopic, 0)
        var logStart: Int64 = 0
        var fold = ChangelogFold()
        var reachedEnd = false
        do {
            let marks = try await consumer.watermarks(partition)
            logStart = marks.low
            // An empty log (a new group) has nothing to read: waiting for its end-of-partition
            // event took ~200 ms of every first start.
            reachedEnd = marks.high <= marks.low
            // Offset -2 is librdkafka's RD_KAFKA_OFFSET_BEGINNING.
            if !reachedEnd {
                try consumer.assign([TopicPartitionOffset(partition.topic, partition.partition, offset: -2)])
            }
            var next = logStart
            while !reachedEnd {
                if stop() { break }
                let batch = try await consumer.poll(maxMessages: 10_000, timeout: .milliseconds(200))
                for m in batch {
                    // A gap is a transaction's commit marker: counted like `SnapshotSchedule.batchOverhead`.
                    if m.offset > next { fold.skipped(offsets: m.offset - next, bytes: SnapshotSchedule.batchOverhead) }
                    next = m.offset + 1
                    try fold.add(
                        ChangelogRecord(
                            key: m.key.map { String(decoding: $0, as: UTF8.self) } ?? "",
                            value: m.value.map { Array($0) }))
                }
                reachedEnd = batch.errors.contains { $0.code == Self.partitionEOF }
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        guard reachedEnd else { return nil }
        logger.info(
            "state restored from \(settings.changelogTopic)",
            metadata: [
                "keys": "\(fold.records.count)", "log_start": "\(logStart)", "snapshots": "\(fold.snapshots)",
            ])
        return RestoredChangelog(
            records: fold.records, tailBytes: fold.tailBytes, logStart: logStart,
            headLostWithoutSnapshot: logStart > 0 && fold.snapshots == 0)
    }
}

/// The state's records, and how much of the log lies after the last complete snapshot's start.
struct RestoredChangelog: Sendable {
    var records: [ChangelogRecord]
    var tailBytes: Int
    var logStart: Int64 = 0
    /// The log does not start at 0 and holds no complete snapshot. On the
    /// embedded broker that means lost state; a real cluster may move the start of a compacted
    /// log past records compaction removed.
    var headLostWithoutSnapshot = false
}
