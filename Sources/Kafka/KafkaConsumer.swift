import CKafkaShim
import Logging
import Synchronization

/// A consumer-group consumer with batch polling, manual offsets and rebalance hooks.
///
/// Poll from one task at a time. Offsets committed are the NEXT offset to read
/// (`KafkaMessageBatch.nextOffsets`). Call `close()` when done (runs `beforeRevoke`, leaves the group).
public final class KafkaConsumer: Sendable {
    let client: KafkaClient
    let core: ConsumerCore

    public init(configuration: KafkaConsumerConfiguration, logger: Logger = Logger(label: "kafka.consumer"))
        throws(KafkaError)
    {
        let properties = configuration.librdkafkaProperties
        let conf = try makeConf(properties)
        let rebalanceCallback = RebalanceCallback(
            autoOffsetReset: properties.last { $0.0 == "auto.offset.reset" }?.1)
        client = try KafkaClient(
            RD_KAFKA_CONSUMER, conf: conf, rebalanceCallback: rebalanceCallback, logger: logger,
            label: "consumer")
        core = ConsumerCore(client: client, rebalanceCallback: rebalanceCallback, wakeup: try QueueWakeup())
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
        let list = TopicPartitionList(topics.map { TopicPartition($0, RD_KAFKA_PARTITION_UA) })
        try KafkaError.check(list.withListPointer { rd_kafka_subscribe(client.rk, $0) })
    }

    /// Assigns partitions manually (no group membership), starting at the given offsets
    /// (`Int64(RD_KAFKA_OFFSET_BEGINNING)` = -2 for the start, -1001 for the committed offset).
    public func assign(_ partitions: [TopicPartitionOffset]) throws(KafkaError) {
        try client.checkOpen()
        let list = TopicPartitionList(partitions)
        try KafkaError.check(list.withListPointer { rd_kafka_assign(client.rk, $0) })
        core.sought.withLock { $0.removeAll() }
    }

    /// Up to `maxMessages` messages, waiting at most `timeout` for the first. Runs pending
    /// rebalance hooks first. Returns an empty batch on timeout. Throws the instance's fatal error.
    public func poll(maxMessages: Int = 10_000, timeout: Duration = .milliseconds(100)) async throws(KafkaError)
        -> KafkaMessageBatch
    {
        try client.checkOpen()
        if let deferred = core.takeDeferredRebalance() { try await handle(deferred) }
        if let fatal = client.fatalError { throw fatal }
        let (batch, rebalance) = await consume(maxMessages: maxMessages, timeoutMs: timeout.milliseconds)
        if let rebalance {
            if rebalance.isRevoke && !batch.isEmpty {
                core.deferRebalance(rebalance)  // let the application process this batch first
            } else {
                try await handle(rebalance)
            }
        }
        return batch
    }

    /// Takes what is already fetched, without waiting and without running the rebalance hooks:
    /// a rebalance it meets is left for the next `poll`, which handles it first. For reading ahead
    /// while the application still processes the previous batch, when its hooks must not run.
    /// Empty while such a rebalance waits.
    public func pollAhead(maxMessages: Int = 10_000) async throws(KafkaError) -> KafkaMessageBatch {
        try client.checkOpen()
        if let fatal = client.fatalError { throw fatal }
        let (batch, rebalance) = await consume(
            maxMessages: core.hasDeferredRebalance ? 0 : maxMessages, timeoutMs: 0)
        if let rebalance { core.deferRebalance(rebalance) }
        return batch
    }

    /// Whether a rebalance `pollAhead` met waits for the next `poll`.
    public var hasWaitingRebalance: Bool { core.hasDeferredRebalance }

    /// One consume call on the blocking queue; the rebalance the callback recorded during it.
    private func consume(maxMessages: Int, timeoutMs: Int32) async -> (KafkaMessageBatch, PendingRebalance?) {
        let capacity = max(1, maxMessages)
        let (batch, rebalance) = await client.perform { [core] () -> (KafkaMessageBatch, PendingRebalance?) in
            let queue = core.client.consumerQueue
            let buffer = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: capacity)
            guard maxMessages > 0 else { return (KafkaMessageBatch(buffer: buffer, capacity: capacity, n: 0), nil) }
            let queuedBefore = rd_kafka_queue_length(queue)
            let n = rd_kafka_consume_batch_queue(queue, timeoutMs, buffer, capacity)
            let batch = KafkaMessageBatch(buffer: buffer, capacity: capacity, n: max(0, n))
            core.restartFetchersIfStalled(
                queuedBefore: queuedBefore, batch: batch, queuedAfter: rd_kafka_queue_length(queue))
            return (batch, core.takePendingRebalance())
        }
        for error in batch.errors { client.logger.warning("consumer: \(error)") }
        return (batch, rebalance)
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
            try core.rebalanceCallback.apply(rebalance, rk: client.rk)
            core.sought.withLock { for p in rebalance.partitions { $0[p] = nil } }
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
            let list = TopicPartitionList(offsets)
            try KafkaError.check(list.withListPointer { rd_kafka_commit(client.rk, $0, 1) })
            return
        }
        try await client.run { [client] () throws(KafkaError) in
            let list = TopicPartitionList(offsets)
            try KafkaError.check(list.withListPointer { rd_kafka_commit(client.rk, $0, 0) })
            if let error = list.firstError { throw error }
        }
    }

    /// The group's committed offsets for `partitions` (-1001 where none).
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws(KafkaError)
        -> [TopicPartitionOffset]
    {
        try client.checkOpen()
        let ms = timeout.milliseconds
        return try await client.run { [client] () throws(KafkaError) -> [TopicPartitionOffset] in
            let list = TopicPartitionList(partitions)
            try KafkaError.check(list.withListPointer { rd_kafka_committed(client.rk, $0, ms) })
            return list.offsets
        }
    }

    /// The partition's log start and end offsets, asked of its leader.
    public func watermarks(_ partition: TopicPartition, timeout: Duration = .seconds(10)) async throws(KafkaError) -> (
        low: Int64, high: Int64
    ) {
        try client.checkOpen()
        let ms = timeout.milliseconds
        return try await client.run { [client] () throws(KafkaError) -> (low: Int64, high: Int64) in
            var low: Int64 = 0, high: Int64 = 0
            try KafkaError.check(
                rd_kafka_query_watermark_offsets(client.rk, partition.topic, partition.partition, &low, &high, ms))
            return (low, high)
        }
    }

    /// The partition's log start offset as the last fetch answer gave it (no request; nil before one).
    public func cachedLogStart(_ partition: TopicPartition) -> Int64? {
        var low: Int64 = -1, high: Int64 = -1
        guard (try? client.checkOpen()) != nil,
            rd_kafka_get_watermark_offsets(client.rk, partition.topic, partition.partition, &low, &high)
                == RD_KAFKA_RESP_ERR_NO_ERROR,
            low >= 0
        else { return nil }
        return low
    }

    /// The current assignment.
    public func assignment() throws(KafkaError) -> [TopicPartition] {
        try client.checkOpen()
        return try TopicPartitionList.assignment(of: client.rk).partitions
    }

    /// The offset the application reads next from each of `partitions` (-1001 where none yet).
    public func positions(_ partitions: [TopicPartition]) throws(KafkaError) -> [TopicPartitionOffset] {
        try client.checkOpen()
        let list = TopicPartitionList(partitions)
        try KafkaError.check(list.withListPointer { rd_kafka_position(client.rk, $0) })
        return list.offsets
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
        FetchRestart.restart(rk: client.rk, sought: core.sought) { resumed.contains($0) }
    }

    private func apply(
        _ operation: (OpaquePointer?, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> rd_kafka_resp_err_t,
        to partitions: [TopicPartition]
    ) throws(KafkaError) {
        try client.checkOpen()
        let list = TopicPartitionList(partitions)
        try KafkaError.check(list.withListPointer { operation(client.rk, $0) })
        if let error = list.firstError { throw error }
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
