import Kafka
import Testing
import TestSupport

@Suite struct RoundTripTests {
    @Test func tombstonesKeysAndHeadersRoundTrip() async throws {
        let broker = try sharedBroker()
        let topic = unique("roundtrip")
        try broker.createTopic(topic, partitions: 2)
        let producer = try producer(broker)
        let headers = [KafkaHeader("trace", "abc"), KafkaHeader("empty", nil), KafkaHeader("trace", "second")]
        try await producer.send(topic: topic, partition: 0, key: [UInt8]("k1"), value: [UInt8]("v1"), headers: headers)
        try await producer.send(topic: topic, partition: 0, key: [UInt8]("k1"), value: nil)
        try await producer.send(topic: topic, partition: 1, key: nil, value: [])
        try await producer.flush()
        await producer.shutdown()

        let consumer = try consumer(broker, group: unique("g"), topics: [topic])
        let messages = try await consume(consumer, count: 3)
        await consumer.close()
        #expect(messages.count == 3)
        let p0 = messages.filter { $0.partition == 0 }.sorted { $0.offset < $1.offset }
        #expect(p0.count == 2)
        #expect(p0.first?.key == [UInt8]("k1"))
        #expect(p0.first?.value == [UInt8]("v1"))
        #expect(p0.first?.headers == headers)
        #expect(p0.last?.key == [UInt8]("k1"))
        #expect(p0.last?.value == nil)  // tombstone
        #expect(p0.last?.headers == [])
        let p1 = messages.filter { $0.partition == 1 }
        #expect(p1.first?.key == nil)
        #expect(p1.first?.value == [])  // empty, not null
    }

    /// The tracked topic's highest delivered offset per partition, from the delivery reports;
    /// other topics leave it alone.
    @Test func theHighestDeliveredOffsetOfTheTrackedTopicIsKept() async throws {
        let broker = try sharedBroker()
        let tracked = unique("tracked"), other = unique("untracked")
        try broker.createTopic(tracked, partitions: 2)
        try broker.createTopic(other, partitions: 1)
        let producer = try producer(broker)
        try producer.trackDeliveredOffsets(of: tracked)
        #expect(producer.lastDeliveredOffset(partition: 0) == nil)
        for i in 0..<25 { try await producer.send(topic: tracked, partition: 0, key: nil, value: [UInt8(i)]) }
        for i in 0..<7 { try await producer.send(topic: tracked, partition: 1, key: nil, value: [UInt8(i)]) }
        for i in 0..<40 { try await producer.send(topic: other, partition: 0, key: nil, value: [UInt8(i)]) }
        try await producer.flush()
        #expect(producer.lastDeliveredOffset(partition: 0) == 24)
        #expect(producer.lastDeliveredOffset(partition: 1) == 6)
        await producer.shutdown()
    }

    /// Compression set for one topic applies to that topic only. The embedded broker keeps ~5 MiB
    /// of stored batches per partition: 6 MiB of repetitive records stays whole when compressed and
    /// loses its head when not.
    @Test func topicPropertiesApplyToTheirTopicOnly() async throws {
        let broker = try sharedBroker()
        let compressed = unique("lz4-topic"), plain = unique("plain-topic")
        try broker.createTopic(compressed, partitions: 1)
        try broker.createTopic(plain, partitions: 1)
        let producer = try producer(broker) { $0.topicProperties = [compressed: ["compression.type": "lz4"]] }
        let record = [UInt8](repeating: UInt8(ascii: "x"), count: 4096)
        for _ in 0..<1536 {
            for topic in [compressed, plain] {
                try await producer.send(topic: topic, partition: 0, key: nil, value: record)
            }
        }
        try await producer.flush()
        await producer.shutdown()

        let consumer = try consumer(broker, group: unique("g"), topics: [])
        try consumer.assign([TopicPartitionOffset(compressed, 0, offset: 0), TopicPartitionOffset(plain, 0, offset: 0)])
        var first: [String: Int64] = [:]
        try await eventually("a message of each topic", within: .seconds(30), every: .zero) {
            let batch = try await consumer.poll()
            for m in batch where first[m.topic] == nil { first[m.topic] = m.offset }
            return first.count == 2
        }
        await consumer.close()
        #expect(first[compressed] == 0)
        #expect((first[plain] ?? 0) > 0)
    }

    @Test func badTopicPropertyFailsAtCreation() {
        var config = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
        config.topicProperties["t"] = ["compression.type": "zip"]
        #expect {
            _ = try KafkaProducer(configuration: config)
        } throws: { error in
            (error as? KafkaError)?.message.contains("compression") == true
        }
    }

    @Test func unknownPropertyFailsWithLibrdkafkaMessage() throws {
        var config = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
        config.properties["no.such.property"] = "1"
        #expect {
            _ = try KafkaProducer(configuration: config)
        } throws: { error in
            (error as? KafkaError)?.message.contains("No such configuration property") == true
        }
        var bad = KafkaConsumerConfiguration(bootstrapServers: "127.0.0.1:1", groupID: "g")
        bad.properties["session.timeout.ms"] = "not-a-number"
        #expect(throws: KafkaError.self) { _ = try KafkaConsumer(configuration: bad) }
    }
}

@Suite struct LifecycleTests {
    @Test func callsAfterShutdownFailInsteadOfCrashing() async throws {
        let broker = try sharedBroker()
        let producer = try producer(broker)
        await producer.shutdown()
        #expect(throws: KafkaError.self) { try producer.trySend(topic: "t", key: nil, value: [1]) }
        await #expect(throws: KafkaError.self) { try await producer.flush() }
        let consumer = try consumer(broker, group: unique("closed"), topics: [unique("closed-topic")])
        await consumer.close()
        await #expect(throws: KafkaError.self) { _ = try await consumer.poll() }
        await #expect(throws: KafkaError.self) { try await consumer.commit([TopicPartitionOffset("t", 0, offset: 1)]) }
    }

    @Test func adminCreateTopicsReportsWhatTheBrokerSays() async throws {
        // The embedded broker has no CreateTopics handler: the helper must fail with an error, not hang.
        let broker = try sharedBroker()
        await #expect(throws: KafkaError.self) {
            try await KafkaAdmin.createTopics(
                [NewTopic(name: unique("admin"), partitions: 3, configs: ["cleanup.policy": "compact"])],
                bootstrapServers: broker.bootstrapServers, timeout: .seconds(2), logger: quietLogger)
        }
    }
}
