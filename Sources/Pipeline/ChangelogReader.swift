import Domain
import Kafka
import Logging

/// Reads `{group-id}.state-changelog` from the beginning to its end (partition EOF, which
/// accounts for transaction markers), keeping the last record of each key.
struct ChangelogReader {
    let settings: WorkerSettings
    let logger: Logger

    /// librdkafka's `_PARTITION_EOF`.
    static let partitionEOF = KafkaErrorCode(rawValue: -191)

    func readAll(stop: @Sendable () -> Bool) async throws -> [ChangelogRecord] {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: settings.brokers, groupID: settings.groupID + ".restore")
        configuration.properties = WorkerSettings.clientTuning.merging(settings.kafkaProperties) { $1 }
        configuration.properties["enable.partition.eof"] = "true"
        configuration.properties["fetch.wait.max.ms"] = configuration.properties["fetch.wait.max.ms"] ?? "10"
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)  // EOF arrives as a consumer "error"
        let consumer = try KafkaConsumer(configuration: configuration, logger: quiet)
        try consumer.assign([TopicPartitionOffset(settings.changelogTopic, 0, offset: -2)])  // -2: beginning
        var latest: [String: Int] = [:]
        var records: [ChangelogRecord] = []
        var reachedEnd = false
        while !reachedEnd {
            if stop() { break }
            let batch = try await consumer.poll(maxMessages: 10_000, timeout: .milliseconds(200))
            for m in batch {
                let key = m.key.map { String(decoding: $0, as: UTF8.self) } ?? ""
                let record = ChangelogRecord(key: key, value: m.value.map { Array($0) })
                if let i = latest[key] { records[i] = record } else {
                    latest[key] = records.count
                    records.append(record)
                }
            }
            reachedEnd = batch.errors.contains { $0.code == Self.partitionEOF }
        }
        await consumer.close()
        logger.info("state restored from \(settings.changelogTopic)", metadata: ["keys": "\(records.count)"])
        return records
    }
}
