import CKafkaShim
import Synchronization

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
