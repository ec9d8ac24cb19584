import Kafka
import Synchronization
import Testing

@Suite struct PartitionQueueTests {
    /// A partition declared with `readSeparately` comes only through its own queue, from its
    /// first message on, even when the assign hook is slow: the queue is split off before
    /// librdkafka starts fetching, not in the hook (by then the first messages were in the
    /// consumer queue, and reading two queues mixed up the partition's order).
    @Test func aSeparatePartitionIsReadWholeAndInOrderThroughItsOwnQueue() async throws {
        let broker = try sharedBroker()
        let topic = unique("separate")
        try broker.createTopic(topic, partitions: 2)
        let p = try producer(broker)
        for i in 0..<400 { try await p.send(topic: topic, partition: Int32(i % 2), key: nil, value: Array("\(i)")) }
        try await p.flush()
        await p.shutdown()

        let c = try consumer(broker, group: unique("separate-group"), topics: [topic])
        let own = TopicPartition(topic, 1)
        c.readSeparately(own)
        let queue = Mutex<KafkaPartitionQueue?>(nil)
        c.setRebalanceHooks(KafkaRebalanceHooks(afterAssign: { [weak c] _ in
            // A hook as slow as a state restore: the partitions' fetches have long started.
            try? await Task.sleep(for: .milliseconds(500))
            queue.withLock { $0 = c?.partitionQueue(for: own) }
        }))
        var fromConsumerQueue: [KafkaMessage] = []
        var fromOwnQueue: [KafkaMessage] = []
        try await pollUntil(c) { batch in
            fromConsumerQueue += batch.map { $0.owned() }
            if let q = queue.withLock({ $0 }) { fromOwnQueue += await q.poll(maxMessages: 1_000).map { $0.owned() } }
            return fromConsumerQueue.count + fromOwnQueue.count >= 400
        }
        queue.withLock { $0 = nil }
        await c.close()

        #expect(fromConsumerQueue.allSatisfy { $0.partition == 0 }, "none of partition 1 in the consumer queue")
        #expect(fromOwnQueue.allSatisfy { $0.partition == 1 })
        #expect(fromOwnQueue.map(\.offset) == Array(0..<200))
        #expect(fromOwnQueue.map { String(decoding: $0.value ?? [], as: UTF8.self) } == stride(from: 1, to: 400, by: 2).map { "\($0)" })
    }
}
