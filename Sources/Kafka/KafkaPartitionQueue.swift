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

/// The partitions a consumer reads through queues of their own, and those queues while assigned.
/// The queue is split off on the blocking queue just BEFORE librdkafka applies an assignment:
/// once a fetch has started, the partition's first messages would already sit in the consumer
/// queue, and reading both queues could not keep the partition's order.
final class SeparateQueues: Sendable {
    private struct State {
        var wanted: Set<TopicPartition> = []
        var queues: [TopicPartition: KafkaPartitionQueue] = [:]
    }
    private let state = Mutex(State())
    private let wakeup: QueueWakeup

    init(wakeup: QueueWakeup) { self.wakeup = wakeup }

    var hasQueued: Bool { state.withLock { $0.queues.values.contains { $0.hasQueued } } }

    func want(_ partition: TopicPartition) { state.withLock { _ = $0.wanted.insert(partition) } }

    /// Partitions read through their own queue right now.
    var separated: Set<TopicPartition> { state.withLock { Set($0.queues.keys) } }

    func queue(for partition: TopicPartition) -> KafkaPartitionQueue? { state.withLock { $0.queues[partition] } }

    /// Blocking queue, before an assignment is applied.
    func split(_ assigned: [TopicPartition], client: KafkaClient) {
        state.withLock { s in
            for p in assigned where s.wanted.contains(p) && s.queues[p] == nil {
                guard let queue = rd_kafka_queue_get_partition(client.rk, p.topic, p.partition) else { continue }
                rd_kafka_queue_forward(queue, nil)  // sets the flag that keeps fetch starts from forwarding it
                s.queues[p] = KafkaPartitionQueue(queue: queue, client: client, wakeup: wakeup)
            }
        }
    }

    /// After a revocation is applied: those partitions' queues are let go.
    func drop(_ revoked: [TopicPartition]) {
        state.withLock { s in for p in revoked { s.queues[p] = nil } }
    }

    /// At close: every queue is let go.
    func dropAll() {
        state.withLock { $0.queues.removeAll() }
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
