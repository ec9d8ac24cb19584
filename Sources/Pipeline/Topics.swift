import Kafka
import Logging

/// The topics a worker reads and writes, with their partition counts. Internal topics have one
/// partition (the sequenced log is the single order; the changelog is read whole on restore).
public struct TopicPlan: Sendable {
    public var topics: [NewTopic]

    /// Partitions of the contract's topics when the worker creates them.
    public static let contractPartitions: Int32 = 6

    public init(
        _ settings: WorkerSettings, inputPartitions: Int32 = contractPartitions,
        outputPartitions: Int32 = contractPartitions, replicationFactor: Int32 = 3
    ) {
        let rf = replicationFactor
        // A unit's topic has one partition: its updates keep their order, and the volume is tiny.
        let input = settings.inputTopics
        topics = input.names(registries: settings.registries).map { name in
            NewTopic(name: name, partitions: input.layout == .shared ? inputPartitions : 1, replicationFactor: rf)
        }
        topics += [
            NewTopic(name: settings.summariesTopic, partitions: outputPartitions, replicationFactor: rf),
            NewTopic(name: settings.alertsTopic, partitions: outputPartitions, replicationFactor: rf),
            NewTopic(name: settings.rejectedTopic, partitions: outputPartitions, replicationFactor: rf),
            NewTopic(name: settings.sequencedTopic, partitions: 1, replicationFactor: rf),
            NewTopic(
                name: settings.changelogTopic, partitions: 1, replicationFactor: rf,
                configs: ["cleanup.policy": "compact"]),
        ]
    }
}

/// Creates the worker's topics on a real cluster when missing (existing ones are left as they
/// are). `properties`: librdkafka client properties (security).
public func ensureTopics(_ plan: TopicPlan, brokers: String, properties: [String: String] = [:], logger: Logger)
    async throws
{
    try await KafkaAdmin.createTopics(plan.topics, bootstrapServers: brokers, properties: properties, logger: logger)
    logger.info("topics ensured", metadata: ["topics": "\(plan.topics.map(\.name))"])
}

/// The same on the embedded broker, as mock topics (the mock neither compacts nor keeps more
/// than about 5 MiB per partition).
public func ensureTopics(_ plan: TopicPlan, on broker: EmbeddedBroker) throws {
    for topic in plan.topics {
        let result = Result { () throws(KafkaError) in
            try broker.createTopic(topic.name, partitions: topic.partitions, configs: topic.configs)
        }
        if case .failure(let error) = result, error.code != .topicAlreadyExists { throw error }
    }
}
