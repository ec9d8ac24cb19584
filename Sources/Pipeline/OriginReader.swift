import Kafka
import Logging

/// Reads input messages back by topic, partition and offset: the original bytes of a
/// `conflicting_revision` rejection, which sequenced records do not carry. Conflicts are rare (a
/// sender reusing a revision for other content), so a batch that has some opens a consumer of its
/// own (group `{group-id}.origins`, never joined) and closes it after.
struct OriginReader: Sendable {
    let settings: WorkerSettings
    /// Client properties (the cluster profile's, so security settings apply here too).
    let properties: [String: String]
    let logger: Logger

    /// The longest wait for one message before the batch fails (and is redone).
    static let timeout = Duration.seconds(30)

    /// The bytes at each origin, in order; nil where the input topic no longer holds the offset
    /// (retention, or the embedded broker's window).
    /// A graceful stop waits for it like for the rest of the batch (at most `timeout` per message).
    func read(_ origins: [InputOrigin]) async throws -> [[UInt8]?] {
        guard !origins.isEmpty else { return [] }
        var configuration = KafkaConsumerConfiguration(
            bootstrapServers: settings.brokers, groupID: settings.groupID + ".origins")
        configuration.properties = properties
        configuration.properties["enable.partition.eof"] = "true"
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)  // EOF arrives as a consumer "error"
        let consumer = try KafkaConsumer(configuration: configuration, logger: quiet)
        var found: [[UInt8]?] = []
        do {
            for origin in origins { found.append(try await read(origin, with: consumer)) }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        return found
    }

    private func read(_ origin: InputOrigin, with consumer: KafkaConsumer) async throws -> [UInt8]? {
        let partition = TopicPartition(origin.topic, origin.partition)
        let marks = try await consumer.watermarks(partition)
        guard origin.offset >= marks.low, origin.offset < marks.high else {
            logger.error(
                "the input topic no longer holds a conflicting report: its rejection has no original bytes",
                metadata: [
                    "topic": "\(origin.topic)", "partition": "\(origin.partition)", "offset": "\(origin.offset)",
                ])
            return nil
        }
        try consumer.assign([TopicPartitionOffset(origin.topic, origin.partition, offset: origin.offset)])
        let deadline = ContinuousClock.now + Self.timeout
        while ContinuousClock.now < deadline {
            let batch = try await consumer.poll(maxMessages: 100, timeout: .milliseconds(200))
            for m in batch where m.partition == origin.partition && m.offset >= origin.offset {
                // A later offset first: the message at this one was removed (compaction).
                return m.offset == origin.offset ? m.value.map { Array($0) } ?? [] : nil
            }
        }
        throw KafkaError(code: .timedOut, message: "reading \(origin.topic)/\(origin.partition)@\(origin.offset) back")
    }
}
