import CRdKafka

/// One assigned partition served from a queue of its own instead of the consumer queue, so its
/// messages never wait behind other partitions' prefetched messages, and librdkafka 2.0.2's
/// queue-full fetch back-off (issue #2879), driven by the consumer queue's length, never stalls
/// it. Added for the pipeline's single-partition sequenced log.
public final class KafkaPartitionQueue: @unchecked Sendable {
    private let queue: OpaquePointer
    /// Kept alive until this queue is destroyed: rd_kafka_destroy must not run before.
    private let consumer: KafkaConsumer
    private var client: KafkaClient { consumer.client }

    private let partition: TopicPartition

    init(queue: OpaquePointer, consumer: KafkaConsumer, partition: TopicPartition) {
        self.queue = queue
        self.consumer = consumer
        self.partition = partition
        _ = consumer.core.separated.withLock { $0.insert(partition) }
    }

    deinit {
        _ = consumer.core.separated.withLock { $0.remove(partition) }
        rd_kafka_queue_destroy(queue)
    }

    /// Up to `maxMessages` messages, waiting at most `timeout` for a FULL batch (`.zero`: what
    /// is there now).
    public func poll(maxMessages: Int, timeout: Duration = .zero) async -> KafkaMessageBatch {
        let ms = timeout.milliseconds
        let capacity = max(1, maxMessages)
        return await client.perform { [self] in
            let buffer = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: capacity)
            let n = rd_kafka_consume_batch_queue(queue, ms, buffer, capacity)
            return KafkaMessageBatch(buffer: buffer, capacity: capacity, n: max(0, n))
        }
    }
}

extension KafkaConsumer {
    /// Stops forwarding `partition`'s fetched messages to the consumer queue and returns its own
    /// queue (nil if librdkafka does not know the partition). Call right after the partition is
    /// assigned (in `afterAssign`), before its first fetch; librdkafka keeps the application's
    /// forwarding choice across later fetch starts. Release the queue before `close()`.
    public func separateQueue(for partition: TopicPartition) -> KafkaPartitionQueue? {
        guard let queue = rd_kafka_queue_get_partition(client.rk, partition.topic, partition.partition) else { return nil }
        rd_kafka_queue_forward(queue, nil)
        return KafkaPartitionQueue(queue: queue, consumer: self, partition: partition)
    }
}
