import CKafkaShim
import Synchronization

/// One assigned partition served from a queue of its own instead of the consumer queue, so its
/// messages never wait behind other partitions' prefetched messages, and librdkafka 2.0.2's
/// queue-full fetch back-off (issue #2879), driven by the consumer queue's length, never stalls
/// it. Added for the pipeline's single-partition sequenced log.
public final class KafkaPartitionQueue: @unchecked Sendable {
    private let queue: OpaquePointer
    /// Kept alive until this queue is destroyed: rd_kafka_destroy must not run before.
    private let client: KafkaClient
    /// Kept alive too: librdkafka writes into its pipe until the queue is unwatched.
    private let wakeup: QueueWakeup

    init(queue: OpaquePointer, client: KafkaClient, wakeup: QueueWakeup) {
        self.queue = queue
        self.client = client
        self.wakeup = wakeup
        wakeup.watch(queue)
    }

    deinit {
        wakeup.unwatch(queue)
        rd_kafka_queue_destroy(queue)
    }

    var hasQueued: Bool { rd_kafka_queue_length(queue) > 0 }

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
    /// Reads `partition` through a queue of its own whenever it is assigned (`partitionQueue(for:)`).
    /// Call before the first poll.
    public func readSeparately(_ partition: TopicPartition) {
        core.separateQueues.want(partition)
    }

    /// The own queue of a partition declared with `readSeparately`, while it is assigned (from
    /// `afterAssign` on). Release it before `close()`.
    public func partitionQueue(for partition: TopicPartition) -> KafkaPartitionQueue? {
        core.separateQueues.queue(for: partition)
    }
}
