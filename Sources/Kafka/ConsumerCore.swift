import CKafkaShim
import Synchronization

/// Consumer state touched by the polling task, the blocking queue and the event thread.
final class ConsumerCore: @unchecked Sendable {
    let client: KafkaClient
    let rebalanceCallback: RebalanceCallback
    let hooks = Mutex(KafkaRebalanceHooks())
    let lag = Mutex<[TopicPartition: Int64]>([:])
    private let deferred = Mutex<PendingRebalance?>(nil)
    let separateQueues: SeparateQueues
    let wakeup: QueueWakeup
    /// Partitions the application paused (the fetch restart leaves them alone).
    let paused = Mutex<Set<TopicPartition>>([])
    /// Blocking queue only.
    private var fetchRestart: FetchRestart
    let fetchRestarts = Atomic<Int>(0)
    /// Each partition's last seek (`FetchRestart.restart`), until it is assigned or revoked again.
    let sought = Mutex<[TopicPartition: Int64]>([:])

    init(client: KafkaClient, rebalanceCallback: RebalanceCallback, wakeup: QueueWakeup) {
        self.client = client
        self.rebalanceCallback = rebalanceCallback
        self.wakeup = wakeup
        separateQueues = SeparateQueues(wakeup: wakeup)
        fetchRestart = FetchRestart(rk: client.rk)
        if let queue = client.consumerQueue { wakeup.watch(queue) }
    }

    /// Whether the consumer queue or a separate partition queue holds something.
    var hasQueued: Bool {
        (client.consumerQueue.map { rd_kafka_queue_length($0) > 0 } ?? false) || separateQueues.hasQueued
    }

    /// Blocking queue only: see `FetchRestart`.
    func restartFetchersIfStalled(queuedBefore: Int, batch: KafkaMessageBatch, queuedAfter: Int) {
        var bytes = 0
        for m in batch { bytes += (m.value?.count ?? 0) + (m.key?.count ?? 0) }
        func skipped() -> Set<TopicPartition> { separateQueues.separated.union(paused.withLock { $0 }) }
        let reason: String
        if fetchRestart.observe(
            queuedBefore: queuedBefore, polled: batch.count, polledBytes: bytes, queuedAfter: queuedAfter)
        {
            reason = "consumer queue drained after reaching its limit: fetchers restarted"
        } else if batch.isEmpty, queuedAfter == 0,
            fetchRestart.observeEmpty(
                at: .now,
                hasDataToFetch: {
                    let skip = skipped()
                    return FetchRestart.hasDataToFetch(rk: client.rk) { !skip.contains($0) }
                })
        {
            reason = "consumer queue empty while its partitions hold more: fetchers restarted"
        } else {
            return
        }
        let skip = skipped()
        FetchRestart.restart(rk: client.rk, sought: sought) { !skip.contains($0) }
        fetchRestarts.add(1, ordering: .relaxed)
        client.logger.trace("\(reason)")
    }

    /// The rebalance the callback recorded during the last consume call, if any.
    func takePendingRebalance() -> PendingRebalance? { rebalanceCallback.takePending() }

    /// A rebalance left for the next `poll`, which handles it before it consumes.
    func deferRebalance(_ r: PendingRebalance) { deferred.withLock { $0 = r } }
    func takeDeferredRebalance() -> PendingRebalance? { deferred.withLock { $0.take() } }
    var hasDeferredRebalance: Bool { deferred.withLock { $0 != nil } }

    /// Blocking queue, at shutdown: librdkafka's default rebalance handling from now on, then
    /// leave the group.
    func closeHandle() {
        rebalanceCallback.beginClosing()
        if let pending = takePendingRebalance() ?? takeDeferredRebalance() {
            try? rebalanceCallback.apply(pending, rk: client.rk)
        }
        separateQueues.dropAll()
        rd_kafka_consumer_close(client.rk)
        if let queue = client.consumerQueue { wakeup.unwatch(queue) }
    }
}
