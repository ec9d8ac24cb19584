import Kafka

/// A session's Kafka clients and its publisher. The one place that asks which delivery
/// guarantee the worker gives: it decides the producer's transactions, the consumer's isolation
/// level and the publisher.
struct WorkerClients {
    let producer: KafkaProducer
    let consumer: KafkaConsumer
    let publisher: any BatchPublisher

    init(context: WorkerContext, profile: ClusterProfile) async throws {
        let settings = context.settings, logger = context.logger
        let transactional: Bool
        switch settings.guarantee {
        case .exactlyOnce: transactional = true
        case .atLeastOnce: transactional = false
        }

        var p = KafkaProducerConfiguration(bootstrapServers: settings.brokers)
        p.clientID = "khuyencong-worker"
        if transactional { p.transactionalID = settings.transactionalID }
        p.properties = profile.properties(WorkerSettings.producerTuning, settings)
        p.topicProperties = [settings.sequencedTopic: WorkerSettings.sequencedTopicTuning]
        let producer = try KafkaProducer(configuration: p, logger: logger)
        try producer.trackDeliveredOffsets(of: settings.sequencedTopic)

        var c = KafkaConsumerConfiguration(bootstrapServers: settings.brokers, groupID: settings.groupID)
        c.clientID = "khuyencong-worker"
        c.isolationLevel = transactional ? .readCommitted : .readUncommitted
        c.statisticsIntervalMs = 5000
        let membership = GroupMembership.properties(profile.kind, instanceID: settings.instanceID)
        c.properties = profile.properties(WorkerSettings.consumerTuning.merging(membership) { $1 }, settings)
        let consumer = try KafkaConsumer(configuration: c, logger: logger)

        let origins = OriginReader(
            settings: settings, properties: profile.properties(WorkerSettings.clientTuning, settings), logger: logger)
        let writer = OutputWriter(producer: producer, settings: settings, logger: logger, origins: origins) {
            [context] in
            context.stopRequested() || Task.isCancelled
        }
        if transactional {
            try await Retry.retriable(stop: context.stopRequested) { () async throws(KafkaError) in
                do throws(KafkaError) { try await producer.initTransactions() } catch {
                    // A timeout is often only the symptom: an authentication failure the producer saw is the cause.
                    throw producer.fatalError ?? error
                }
            }
            publisher = TransactionalPublisher(
                writer: writer, consumer: consumer, metrics: context.metrics,
                alsoCommitsOffsets: profile.commitsOffsetsAfterTransaction)
        } else {
            publisher = AtLeastOncePublisher(writer: writer, consumer: consumer, metrics: context.metrics)
        }
        self.producer = producer
        self.consumer = consumer
    }
}
