import Kafka
import Synchronization
import Testing
import TestSupport

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
        c.setRebalanceHooks(
            KafkaRebalanceHooks(afterAssign: { [weak c] _ in
                // A hook as slow as a state restore: the partitions' fetches have long started.
                try? await Task.sleep(for: .milliseconds(500))
                queue.withLock { $0 = c?.partitionQueue(for: own) }
            }))
        var fromConsumerQueue: [KafkaMessage] = []
        var fromOwnQueue: [KafkaMessage] = []
        try await eventually("400 messages", within: groupWaitLimit, every: .zero) {
            let batch = try await c.poll()
            fromConsumerQueue += batch.map { $0.owned() }
            if let q = queue.withLock({ $0 }) { fromOwnQueue += await q.poll(maxMessages: 1_000).map { $0.owned() } }
            return fromConsumerQueue.count + fromOwnQueue.count >= 400
        }
        queue.withLock { $0 = nil }
        await c.close()

        #expect(fromConsumerQueue.allSatisfy { $0.partition == 0 }, "none of partition 1 in the consumer queue")
        #expect(fromOwnQueue.allSatisfy { $0.partition == 1 })
        #expect(fromOwnQueue.map(\.offset) == Array(0..<200))
        #expect(
            fromOwnQueue.map { String(decoding: $0.value ?? [], as: UTF8.self) }
                == stride(from: 1, to: 400, by: 2).map { "\($0)" })
    }
}

@Suite struct QueueWaitTests {
    /// `waitForMessages` ends as soon as the consumer queue or a separate partition's queue has
    /// a message, or `wake()` is called (also when called before the wait). Each wait's timeout is
    /// a minute: one that is not woken fails the test by lasting it.
    @Test func aWaitEndsWhenEitherQueueHasAMessageOrOnWake() async throws {
        let broker = try sharedBroker()
        let topic = unique("wait")
        try broker.createTopic(topic, partitions: 2)
        let c = try consumer(broker, group: unique("wait-group"), topics: [topic])
        let own = TopicPartition(topic, 1)
        c.readSeparately(own)
        try await eventually("the partition's own queue", within: groupWaitLimit, every: .zero) {
            _ = try await c.poll()
            return c.partitionQueue(for: own) != nil
        }
        let queue = try #require(c.partitionQueue(for: own))
        let p = try producer(broker)

        // A wait may also end for an internal event a poll then serves: wait and poll until the
        // message is there; a wait nothing wakes lasts its minute.
        func waited(sending partition: Int32) async throws -> (Duration, [Int32]) {
            let started = ContinuousClock.now
            try await p.send(topic: topic, partition: partition, key: nil, value: Array("to \(partition)".utf8))
            try await p.flush()
            var seen: [Int32] = []
            while seen.isEmpty && ContinuousClock.now - started < .seconds(90) {
                await c.waitForMessages(timeout: .seconds(60))
                seen += try await c.poll(maxMessages: 10, timeout: .zero).map(\.partition)
                seen += await queue.poll(maxMessages: 10).map(\.partition)
            }
            return (.now - started, seen)
        }
        let (toConsumerQueue, seen0) = try await waited(sending: 0)
        #expect(toConsumerQueue < .seconds(30))
        #expect(seen0 == [0])
        let (toOwnQueue, seen1) = try await waited(sending: 1)
        #expect(toOwnQueue < .seconds(30))
        #expect(seen1 == [1])

        func waited() async -> Duration {
            let started = ContinuousClock.now
            await c.waitForMessages(timeout: .seconds(60))
            return .now - started
        }
        c.wake()
        #expect(await waited() < .seconds(30), "a wake before the wait")
        let woken = Task { await waited() }
        c.wake()
        #expect(await woken.value < .seconds(30), "a wake during the wait")
        await p.shutdown()
        await c.close()
    }
}
