import CKafkaShim
import Logging
import Synchronization

/// Application hooks around a rebalance, run inside `KafkaConsumer.poll` (in the polling task):
/// `beforeRevoke` while the partitions are still assigned (flush, commit, finish a transaction),
/// `afterAssign` once the new partitions are assigned (restore state). Works for both the eager
/// and the cooperative protocol (cooperative: only the partitions that move).
public struct KafkaRebalanceHooks: Sendable {
    /// `lost`: the partitions were already lost (session expired); committing will fail.
    public var beforeRevoke: @Sendable (_ partitions: [TopicPartition], _ lost: Bool) async -> Void
    public var afterAssign: @Sendable (_ partitions: [TopicPartition]) async -> Void

    public init(beforeRevoke: @escaping @Sendable ([TopicPartition], Bool) async -> Void = { _, _ in },
                afterAssign: @escaping @Sendable ([TopicPartition]) async -> Void = { _ in }) {
        self.beforeRevoke = beforeRevoke
        self.afterAssign = afterAssign
    }
}

/// A consumer-group consumer with batch polling, manual offsets and rebalance hooks.
///
/// Poll from one task at a time. Offsets committed are the NEXT offset to read
/// (`KafkaMessageBatch.nextOffsets`). Call `close()` when done (runs `beforeRevoke`, leaves the group).
public final class KafkaConsumer: Sendable {
    let client: KafkaClient
    let core: ConsumerCore

    public init(configuration: KafkaConsumerConfiguration, logger: Logger = Logger(label: "kafka.consumer")) throws(KafkaError) {
        let conf = try makeConf(configuration.librdkafkaProperties)
        client = try KafkaClient(RD_KAFKA_CONSUMER, conf: conf, logger: logger, label: "consumer")
        core = ConsumerCore(client: client, wakeup: try QueueWakeup())
        client.onStatistics = { [weak core] json in core?.updateLag(fromStatistics: json) }
        client.start()
    }

    deinit {
        client.shutdownDetached(beforeStop: core.closeHandle)
    }

    /// Sets the rebalance hooks (before the first poll).
    public func setRebalanceHooks(_ hooks: KafkaRebalanceHooks) {
        core.hooks.withLock { $0 = hooks }
    }

    /// Subscribes the group to `topics` (replacing any previous subscription).
    public func subscribe(topics: [String]) throws(KafkaError) {
        try client.checkOpen()
        let list = topics.map { TopicPartition($0, RD_KAFKA_PARTITION_UA) }.makeCList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_subscribe(client.rk, list))
    }

    /// Assigns partitions manually (no group membership), starting at the given offsets
    /// (`Int64(RD_KAFKA_OFFSET_BEGINNING)` = -2 for the start, -1001 for the committed offset).
    public func assign(_ partitions: [TopicPartitionOffset]) throws(KafkaError) {
        try client.checkOpen()
        let list = partitions.makeCList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_assign(client.rk, list))
    }

    /// Up to `maxMessages` messages, waiting at most `timeout` for the first. Runs pending
    /// rebalance hooks first. Returns an empty batch on timeout. Throws the instance's fatal error.
    public func poll(maxMessages: Int = 10_000, timeout: Duration = .milliseconds(100)) async throws(KafkaError) -> KafkaMessageBatch {
        try client.checkOpen()
        if let deferred = core.takeDeferredRevoke() { try await handle(deferred) }
        if let fatal = client.fatalError { throw fatal }
        let ms = timeout.milliseconds
        let capacity = max(1, maxMessages)
        let (batch, rebalance) = await client.perform { [core] () -> (KafkaMessageBatch, PendingRebalance?) in
            let queue = core.client.consumerQueue
            let queuedBefore = rd_kafka_queue_length(queue)
            let buffer = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: capacity)
            let n = rd_kafka_consume_batch_queue(queue, ms, buffer, capacity)
            let batch = KafkaMessageBatch(buffer: buffer, capacity: capacity, n: max(0, n))
            core.restartFetchersIfStalled(queuedBefore: queuedBefore, batch: batch, queuedAfter: rd_kafka_queue_length(queue))
            return (batch, core.takePendingRebalance())
        }
        for error in batch.errors { client.logger.warning("consumer: \(error)") }
        if let rebalance {
            if rebalance.isRevoke && !batch.isEmpty {
                core.deferRevoke(rebalance)  // let the application process this batch first
            } else {
                try await handle(rebalance)
            }
        }
        return batch
    }

    /// Waits up to `timeout` until the consumer queue or a queue of `readSeparately` has
    /// something to poll, or `wake()` is called; at once if one has, or if `wake()` was called
    /// since the last wait returned. Lets one task serve several queues without polling them in
    /// turn. It may also end for an internal event a poll then serves without returning a message.
    public func waitForMessages(timeout: Duration) async {
        await core.wakeup.wait(timeout: timeout) { [core] in core.hasQueued }
    }

    /// Ends the current (or the next) `waitForMessages` (any task or thread).
    public func wake() { core.wakeup.signal() }

    private func handle(_ rebalance: PendingRebalance) async throws(KafkaError) {
        let hooks = core.hooks.withLock { $0 }
        if rebalance.isRevoke {
            await hooks.beforeRevoke(rebalance.partitions, rebalance.lost)
        }
        try await client.run { [client, core] () throws(KafkaError) in
            if !rebalance.isRevoke { core.separateQueues.split(rebalance.partitions, client: client) }
            try KafkaError.check(shim_rebalance_apply(client.rk, client.rebalance, rebalance.err, rebalance.list))
            if rebalance.isRevoke {
                core.separateQueues.drop(rebalance.partitions)
                core.paused.withLock { $0.subtract(rebalance.partitions) }
            }
        }
        client.logger.debug("rebalance: \(rebalance.isRevoke ? "revoked" : "assigned") \(rebalance.partitions)")
        if !rebalance.isRevoke {
            await hooks.afterAssign(rebalance.partitions)
        }
    }

    /// Commits `offsets` (next offset to read). `wait`: await the broker's answer and throw its
    /// error; otherwise fire-and-forget (failures are logged).
    public func commit(_ offsets: [TopicPartitionOffset], wait: Bool = true) async throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        try client.checkOpen()
        if !wait {
            let list = offsets.makeCList()
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(rd_kafka_commit(client.rk, list, 1))
            return
        }
        try await client.run { [client] () throws(KafkaError) in
            let list = offsets.makeCList()
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(rd_kafka_commit(client.rk, list, 0))
            if let error = firstPartitionError(list) { throw error }
        }
    }

    /// The group's committed offsets for `partitions` (-1001 where none).
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws(KafkaError) -> [TopicPartitionOffset] {
        try client.checkOpen()
        let ms = timeout.milliseconds
        return try await client.run { [client] () throws(KafkaError) -> [TopicPartitionOffset] in
            let list = partitions.makeCList()
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(rd_kafka_committed(client.rk, list, ms))
            return offsets(from: list)
        }
    }

    /// The partition's log start and end offsets, asked of its leader.
    public func watermarks(_ partition: TopicPartition, timeout: Duration = .seconds(10)) async throws(KafkaError) -> (low: Int64, high: Int64) {
        try client.checkOpen()
        let ms = timeout.milliseconds
        return try await client.run { [client] () throws(KafkaError) -> (low: Int64, high: Int64) in
            var low: Int64 = 0, high: Int64 = 0
            try KafkaError.check(rd_kafka_query_watermark_offsets(client.rk, partition.topic, partition.partition, &low, &high, ms))
            return (low, high)
        }
    }

    /// The partition's log start offset as the last fetch answer gave it (no request; nil before one).
    public func cachedLogStart(_ partition: TopicPartition) -> Int64? {
        var low: Int64 = -1, high: Int64 = -1
        guard (try? client.checkOpen()) != nil,
              rd_kafka_get_watermark_offsets(client.rk, partition.topic, partition.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
              low >= 0 else { return nil }
        return low
    }

    /// The current assignment.
    public func assignment() throws(KafkaError) -> [TopicPartition] {
        try client.checkOpen()
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        try KafkaError.check(rd_kafka_assignment(client.rk, &list))
        defer { if let list { rd_kafka_topic_partition_list_destroy(list) } }
        return offsets(from: list).map(\.topicPartition)
    }

    /// The offset the application reads next from each of `partitions` (-1001 where none yet).
    public func positions(_ partitions: [TopicPartition]) throws(KafkaError) -> [TopicPartitionOffset] {
        try client.checkOpen()
        let list = partitions.makeCList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_position(client.rk, list))
        return offsets(from: list)
    }

    /// Stops fetching from `partitions` (they stay assigned).
    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        try apply(rd_kafka_pause_partitions, to: partitions)
        core.paused.withLock { $0.formUnion(partitions) }
    }

    /// Resumes fetching from paused `partitions`. A pause drops what they had prefetched, and
    /// librdkafka 2.0.2 would fetch them again only at its broker threads' next 1 s idle tick
    /// (the stall of `FetchRestart`), so they are also sought to their positions: fetched at once.
    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        try apply(rd_kafka_resume_partitions, to: partitions)
        let resumed = Set(partitions)
        core.paused.withLock { $0.subtract(resumed) }
        FetchRestart.restart(rk: client.rk) { resumed.contains($0) }
    }

    private func apply(_ operation: (OpaquePointer?, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> rd_kafka_resp_err_t,
                       to partitions: [TopicPartition]) throws(KafkaError) {
        try client.checkOpen()
        let list = partitions.makeCList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(operation(client.rk, list))
        if let error = firstPartitionError(list) { throw error }
    }

    /// The group metadata, for `KafkaProducer.sendOffsetsToTransaction`.
    public func groupMetadata() throws(KafkaError) -> KafkaConsumerGroupMetadata {
        try client.checkOpen()
        guard let metadata = rd_kafka_consumer_group_metadata(client.rk) else {
            throw KafkaError(RD_KAFKA_RESP_ERR__STATE, message: "no consumer group metadata (group.id not set?)")
        }
        return KafkaConsumerGroupMetadata(metadata)
    }

    /// The cluster's id from the metadata already received; nil before any (never waits).
    public var clusterID: String? {
        guard !client.isShutDown, let id = rd_kafka_clusterid(client.rk, 0) else { return nil }
        defer { rd_kafka_mem_free(client.rk, id) }
        return String(cString: id)
    }

    /// How often the consumer restarted fetchers that librdkafka had left idle after its queue
    /// filled up (see `FetchRestart`).
    public var fetchRestarts: Int { core.fetchRestarts.load(ordering: .relaxed) }

    /// Per-partition lag from the latest librdkafka statistics (see `ConsumerCore.lag(_:)`); empty unless
    /// `statisticsIntervalMs` > 0. Partitions whose lag is unknown are absent.
    public func lag() -> [TopicPartition: Int64] {
        core.lag.withLock { $0 }
    }

    /// Runs `beforeRevoke` for the current assignment, leaves the group and destroys the
    /// instance. The consumer is unusable afterwards.
    public func close() async {
        guard !client.isShutDown else { return }
        let hooks = core.hooks.withLock { $0 }
        if let assigned = try? assignment(), !assigned.isEmpty {
            await hooks.beforeRevoke(assigned, false)
        }
        await client.shutdownAsync(beforeStop: core.closeHandle)
    }
}

/// A rebalance taken from the shim for the polling task to apply.
final class PendingRebalance: @unchecked Sendable {
    let err: rd_kafka_resp_err_t
    let list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    let partitions: [TopicPartition]
    let lost: Bool
    init(err: rd_kafka_resp_err_t, list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>, lost: Bool) {
        self.err = err
        self.list = list
        self.lost = lost
        partitions = offsets(from: list).map(\.topicPartition)
    }
    var isRevoke: Bool { err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS }
    deinit { rd_kafka_topic_partition_list_destroy(list) }
}

/// Consumer state touched by the polling task, the blocking queue and the event thread.
final class ConsumerCore: @unchecked Sendable {
    let client: KafkaClient
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

    init(client: KafkaClient, wakeup: QueueWakeup) {
        self.client = client
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
        guard fetchRestart.observe(queuedBefore: queuedBefore, polled: batch.count, polledBytes: bytes, queuedAfter: queuedAfter) else { return }
        let skipped = separateQueues.separated.union(paused.withLock { $0 })
        FetchRestart.restart(rk: client.rk) { !skipped.contains($0) }
        fetchRestarts.add(1, ordering: .relaxed)
        client.logger.trace("consumer queue drained after reaching its limit: fetchers restarted")
    }

    /// Blocking queue only (the shim's state is not synchronised otherwise).
    func takePendingRebalance() -> PendingRebalance? {
        guard let rebalance = client.rebalance, rebalance.pointee.pending != 0,
              let list = rebalance.pointee.partitions else { return nil }
        rebalance.pointee.pending = 0
        rebalance.pointee.partitions = nil
        return PendingRebalance(err: rebalance.pointee.err, list: list, lost: rd_kafka_assignment_lost(client.rk) != 0)
    }

    func deferRevoke(_ r: PendingRebalance) { deferred.withLock { $0 = r } }
    func takeDeferredRevoke() -> PendingRebalance? { deferred.withLock { $0.take() } }

    /// Blocking queue, at shutdown: librdkafka's default rebalance handling from now on, then
    /// leave the group.
    func closeHandle() {
        client.rebalance?.pointee.closing = 1
        if let pending = takePendingRebalance() ?? takeDeferredRevoke(),
           let error = shim_rebalance_apply(client.rk, client.rebalance, pending.err, pending.list) {
            rd_kafka_error_destroy(error)
        }
        separateQueues.dropAll()
        rd_kafka_consumer_close(client.rk)
        if let queue = client.consumerQueue { wakeup.unwatch(queue) }
    }
}
