import Kafka
import Logging
import ServiceLifecycle

/// Fills a `ReadModel` from the output topics: every partition from the beginning,
/// `read_committed`, then followed live. Not a member of the worker's group (manual assignment),
/// so any number of processes can follow. Ready once every partition reached the end offset it
/// had when reading started; a topic it cannot read (missing, no ACL) leaves it not ready with
/// the reason, and it tries again after `retryDelay`.
public struct ReadSideFollower: Service {
    let settings: ReadSideSettings
    let model: ReadModel
    let logger: Logger

    public init(settings: ReadSideSettings, model: ReadModel, logger: Logger) {
        self.settings = settings
        self.model = model
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await follow()
                } catch {
                    let reason = "\(error)"
                    if model.readiness != .failed(reason) {
                        logger.error(
                            "read side: cannot read the output topics, retrying",
                            metadata: ["reason": "\(reason)"])
                    }
                    model.setReadiness(.failed(reason))
                    try? await Task.sleep(for: settings.retryDelay)
                }
            }
        }
    }

    /// One reading from the beginning, until cancelled or the topics become unreadable.
    private func follow() async throws {
        var configuration = KafkaConsumerConfiguration(
            bootstrapServers: settings.brokers,
            groupID: ReadSideSettings.groupID)
        configuration.properties = ReadSideFollower.consumerTuning.merging(settings.kafkaProperties) { $1 }
        configuration.properties["enable.partition.eof"] = "true"
        // A reader must not create the topics it looks up (a missing topic is a deployment error).
        configuration.properties["allow.auto.create.topics"] = "false"
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)  // partition EOF arrives as a consumer "error"
        let consumer = try KafkaConsumer(configuration: configuration, logger: quiet)
        do {
            try await read(with: consumer)
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
    }

    private func read(with consumer: KafkaConsumer) async throws {
        var progress = CatchUp()
        var assignment: [TopicPartitionOffset] = []
        for topic in [settings.summariesTopic, settings.alertsTopic] {
            let count: Int32
            do { count = try await consumer.partitionCount(topic: topic) } catch {
                throw ReadSideError("topic \(topic): \(error)")
            }
            for p in 0..<count {
                let partition = TopicPartition(topic, p)
                let marks: (low: Int64, high: Int64)
                do { marks = try await consumer.watermarks(partition) } catch {
                    throw ReadSideError("\(partition): end offset: \(error)")
                }
                progress.expect(partition, end: marks.high, start: marks.low)
                assignment.append(TopicPartitionOffset(topic, p, offset: -2))  // -2: the beginning
            }
        }
        try consumer.assign(assignment)
        model.setReadiness(progress.readiness)
        if progress.done { logger.info("read side: the output topics are empty; ready") }
        while !Task.isCancelled {
            let (batch, ends) = try await consumer.pollNoticingEnds(maxMessages: 2_000, timeout: .milliseconds(200))
            for m in batch {
                let partition = TopicPartition(m.topic, m.partition)
                progress.consumed(partition, offset: m.offset)
                let key = m.key.map { String(decoding: $0, as: UTF8.self) } ?? ""
                guard let value = m.value.map({ Array($0) }) else { continue }  // a tombstone removes nothing here
                do {
                    if m.topic == settings.summariesTopic {
                        try model.apply(summaryKey: key, value: value)
                    } else {
                        try model.apply(alertKey: key, value: value)
                    }
                } catch {
                    logger.warning("read side: skipped \(partition)@\(m.offset): \(error)")
                }
            }
            for end in ends { progress.reachedEnd(end.topicPartition, offset: end.offset) }
            for error in batch.errors where error.code != ReadSideFollower.partitionEOF {
                if error.code == .unknownTopicOrPartition || error.code.name == "TOPIC_AUTHORIZATION_FAILED" {
                    throw ReadSideError(error.description)
                }
                logger.warning("read side: consumer: \(error)")
            }
            if !model.readiness.isReady {
                model.setReadiness(progress.readiness)
                if progress.done { logger.info("read side: caught up with the output topics; ready") }
            }
        }
    }

    /// The follower's consumer. Its prefetch is capped at 4 MiB (~300 summaries) and each fetch
    /// at 4 MiB: with librdkafka's defaults (64 MiB queued, 50 MB per fetch) catching up on a long
    /// summaries topic held tens of MiB more at peak, inside the worker's process.
    static let consumerTuning: [String: String] = [
        "socket.nagle.disable": "true", "fetch.wait.max.ms": "100",
        "queued.max.messages.kbytes": "4096", "fetch.max.bytes": "4194304",
    ]

    /// librdkafka's `_PARTITION_EOF`.
    static let partitionEOF = KafkaErrorCode(rawValue: -191)
}

/// Which partitions still have to reach the end offsets taken when reading started.
struct CatchUp {
    private var remaining: [TopicPartition: Int64] = [:]

    /// `end`: the partition's end offset at start; nothing to wait for when it holds nothing.
    mutating func expect(_ partition: TopicPartition, end: Int64, start: Int64) {
        if end > start { remaining[partition] = end }
    }

    mutating func consumed(_ partition: TopicPartition, offset: Int64) {
        if let end = remaining[partition], offset + 1 >= end { remaining[partition] = nil }
    }

    /// The fetcher found the partition's end at `offset` (past transaction markers).
    mutating func reachedEnd(_ partition: TopicPartition, offset: Int64) {
        if let end = remaining[partition], offset >= end { remaining[partition] = nil }
    }

    var done: Bool { remaining.isEmpty }
    var readiness: ReadModel.Readiness { done ? .ready : .catchingUp(remaining: remaining.count) }
}

/// Why the read side cannot read: one line for the log and `/readyz`.
struct ReadSideError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
