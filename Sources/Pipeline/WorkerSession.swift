import Domain
import Kafka
import Logging
import Synchronization

/// One consumer + one producer and the batch loop over them. A session ends when the worker
/// stops (returns), on a simulated crash, or on an error (throws); the worker then decides
/// whether to start a new session (abortable/transient errors) or to give up (fatal).
///
/// Only the worker's run task touches it: the rebalance hooks run inside `consumer.poll`, in
/// that same task, which is why the mutable state needs no lock.
final class WorkerSession: @unchecked Sendable {
    let context: WorkerContext
    var settings: WorkerSettings { context.settings }
    var logger: Logger { context.logger }
    let producer: KafkaProducer
    let consumer: KafkaConsumer
    private let stageOne: StageOne
    private let sequenced: TopicPartition
    /// The previous batch's publish (acks, offsets, commit), running while the next batch is
    /// collected and processed. Settled before the next publish, a rebalance, or the end.
    private var inFlight: InFlight?
    /// The offset of the last sequenced record polled.
    private var lastSequencedTaken: Int64 = -1
    /// Messages polled for the open batch; nothing has been produced for them yet.
    private var collected: [KafkaMessageBatch] = []
    /// Partitions revoked while the batch was being collected → how many of `collected` were
    /// polled before: their messages of it are dropped (a partition assigned again restarts
    /// from its committed offset, so they would come twice, and out of order).
    private var revokedAt: [TopicPartition: Int] = [:]
    private var hookError: (any Error)?
    private var lastLagReport = ContinuousClock.now
    private var fetchRestartsReported = 0
    /// When the previous batch was published: a batch's poll time includes the empty polls before it.
    private var previousBatchEnd: ContinuousClock.Instant?
    /// Sequenced records this session appended, and sequenced records it read back (as owner).
    private var sequencedAppended = 0
    private var sequencedRead = 0
    private var inputPaused = false
    /// Whether the cluster is the embedded broker; nil until the consumer has its metadata.
    private var onEmbeddedBroker: Bool?
    /// The sequenced partition's own queue while this worker owns it (see `KafkaPartitionQueue`).
    private var sequencedQueue: KafkaPartitionQueue?
    /// Last sequenced offset handed to stage 2 (guards the log order across the two queues); at
    /// assignment the one before the group's committed offset (-1: none).
    private var lastSequencedOffset: Int64 = -1
    /// Per input partition, the offset stage 1 reads next (the committed one at assignment).
    private var inputNext: [Int32: Int64] = [:]
    /// When stage 2 writes snapshots into the changelog (the embedded broker); nil: never.
    private var snapshots: SnapshotSchedule?
    private var warnedSnapshotSize = false

    init(context: WorkerContext) async throws {
        self.context = context
        let settings = context.settings
        sequenced = TopicPartition(settings.sequencedTopic, 0)
        stageOne = StageOne(decoder: ExecutionUpdateDecoder(registries: settings.registries), metrics: context.metrics)

        var p = KafkaProducerConfiguration(bootstrapServers: settings.brokers)
        p.clientID = "khuyencong-worker"
        if settings.guarantee == .exactlyOnce { p.transactionalID = settings.transactionalID }
        p.properties = WorkerSettings.producerTuning.merging(settings.kafkaProperties) { _, configured in configured }
        p.topicProperties = [settings.sequencedTopic: WorkerSettings.sequencedTopicTuning]
        producer = try KafkaProducer(configuration: p, logger: context.logger)
        try producer.trackDeliveredOffsets(of: settings.sequencedTopic)

        var c = KafkaConsumerConfiguration(bootstrapServers: settings.brokers, groupID: settings.groupID)
        c.clientID = "khuyencong-worker"
        c.isolationLevel = settings.guarantee == .exactlyOnce ? .readCommitted : .readUncommitted
        c.statisticsIntervalMs = 5000
        c.properties = WorkerSettings.consumerTuning.merging(settings.kafkaProperties) { _, configured in configured }
        consumer = try KafkaConsumer(configuration: c, logger: context.logger)

        if settings.guarantee == .exactlyOnce {
            try await Retry.retriable(stop: context.stopRequested) { () async throws(KafkaError) in
                do throws(KafkaError) { try await producer.initTransactions() } catch {
                    // A timeout is often only the symptom: an authentication failure the producer saw is the cause.
                    throw producer.fatalError ?? error
                }
            }
        }
        consumer.setRebalanceHooks(KafkaRebalanceHooks(
            beforeRevoke: { [weak self] partitions, lost in await self?.beforeRevoke(partitions, lost: lost) },
            afterAssign: { [weak self] partitions in await self?.afterAssign(partitions) }))
        consumer.readSeparately(sequenced)
        try consumer.subscribe(topics: [settings.inputTopic, settings.sequencedTopic])
    }

    // MARK: Rebalance hooks

    private func beforeRevoke(_ partitions: [TopicPartition], lost: Bool) async {
        // The batch in flight is finished first. Nothing is produced while a batch is collected,
        // so "abort" is simply dropping what was polled from these partitions; the next owner
        // starts from the committed offsets.
        await settleInFlightInHook()
        for p in partitions {
            revokedAt[p] = collected.count
            if p.topic == settings.inputTopic { inputNext[p.partition] = nil }
        }
        if partitions.contains(sequenced) {
            sequencedQueue = nil
            snapshots = nil
            context.stage.drop()
            context.setReady(consumerJoined: true)
        }
        logger.info("partitions revoked", metadata: ["count": "\(partitions.count)", "lost": "\(lost)"])
    }

    private func afterAssign(_ partitions: [TopicPartition]) async {
        await settleInFlightInHook()
        let inputs = partitions.filter { $0.topic == settings.inputTopic }
        if inputPaused {
            do { try consumer.pause(inputs) } catch { hookError = error }
        }
        // Where reading starts, to tell a gap of transaction markers from records the broker dropped.
        let owning = partitions.contains(sequenced)
        let watched = inputs + (owning ? [sequenced] : [])
        var committed: [TopicPartition: Int64] = [:]
        if !watched.isEmpty {
            for c in (try? await consumer.committed(watched)) ?? [] where c.offset >= 0 { committed[c.topicPartition] = c.offset }
        }
        for p in inputs { inputNext[p.partition] = committed[p] }
        if owning {
            sequencedQueue = consumer.partitionQueue(for: sequenced)
            lastSequencedOffset = (committed[sequenced] ?? 0) - 1
            sequencedAppended = 0
            sequencedRead = 0
            context.setReady(consumerJoined: false)
            do {
                // Stopping mid-restore: the stage stays without state, so this worker aggregates
                // nothing before it stops (stage 1 still runs; it needs no state).
                guard let restored = try await ChangelogReader(settings: settings, logger: logger).readAll(stop: context.stopRequested)
                else { return }
                if restored.headLostWithoutSnapshot && isEmbeddedBroker() {
                    throw StateLost.changelogHead(topic: settings.changelogTopic, logStart: restored.logStart)
                }
                try context.stage.restore(restored.records)
                snapshots = (settings.changelogBudget ?? (isEmbeddedBroker() ? WorkerSettings.embeddedChangelogBudget : nil))
                    .map { SnapshotSchedule(budget: $0, restored: restored) }
                logger.info("stage 2 owner: state restored", metadata: ["records": "\(restored.records.count)"])
            } catch {
                hookError = error
                return
            }
        }
        context.setReady(consumerJoined: true)
        logger.info("partitions assigned", metadata: ["count": "\(partitions.count)"])
    }

    /// A failure of the batch in flight surfaces after the poll that ran the hook.
    private func settleInFlightInHook() async {
        do { try await settleInFlight() } catch { hookError = hookError ?? error }
    }

    // MARK: Loop

    /// Runs batches until the worker is asked to stop, then leaves the group.
    func run() async throws {
        while !context.stopRequested() {
            try await runBatch()
        }
        try await settleInFlight()
        sequencedQueue = nil
        await consumer.close()
        await producer.shutdown()
    }

    /// Releases the clients after a failure (no commit; the open transaction is aborted when possible).
    func abandon(abortTransaction: Bool) async {
        if let task = inFlight?.task {
            inFlight = nil
            task.cancel()
            _ = try? await task.value
        }
        if abortTransaction {
            do { try await producer.abortTransaction(timeout: .seconds(10)) } catch { logger.debug("abort: \(error)") }
        }
        sequencedQueue = nil
        await consumer.close()
        await producer.shutdown(timeout: .seconds(5))
    }

    private func collect() async throws {
        collected.removeAll(keepingCapacity: true)
        revokedAt.removeAll()
        let limit = max(1, settings.batchMaxMessages)
        // Take what is already fetched. When nothing is, wait for the first message of either
        // queue (the sequenced partition has one of its own while this worker owns it; none of
        // its records reach the consumer queue) or for the batch in flight to end.
        var polled = try take(await consumer.poll(maxMessages: limit, timeout: .zero))
        let sequencedPolled = await takeSequenced(limit)
        if polled == 0 && sequencedPolled == 0 {
            await consumer.waitForMessages(timeout: .milliseconds(100))
            polled = try take(await consumer.poll(maxMessages: limit, timeout: .zero))
            _ = await takeSequenced(limit)
        }
        // Then drain: big batches under load, no waiting at low rates, except while the previous
        // batch is still being published: this one could not be published sooner, so what
        // arrives until then joins it instead of the next.
        let deadline = ContinuousClock.now + .milliseconds(max(1, settings.batchMaxMilliseconds))
        var count = polled
        var ownRecordsDeadline: ContinuousClock.Instant?
        while count < limit && ContinuousClock.now < deadline {
            if polled == 0 {
                guard let publishing = inFlight else { break }
                var until = deadline
                if publishing.ended.isSet {
                    // Its sequenced records for this worker's stage 2 are readable once it is
                    // committed: a few ms more, and they are aggregated now, not a batch later.
                    guard publishing.appendsOwnRecords, let last = producer.lastDeliveredOffset(partition: sequenced.partition),
                          last > lastSequencedTaken else { break }
                    let end = ownRecordsDeadline ?? .now + .milliseconds(5)
                    ownRecordsDeadline = end
                    until = min(until, end)
                    guard ContinuousClock.now < until else { break }
                }
                await consumer.waitForMessages(timeout: until - .now)
                _ = await takeSequenced(limit)
            }
            polled = try take(await consumer.poll(maxMessages: limit - count, timeout: .zero))
            count += polled
        }
    }

    /// Keeps a polled batch (a rebalance hook that ran in the poll counts it from then on).
    private func take(_ batch: KafkaMessageBatch) throws -> Int {
        if !batch.isEmpty { collected.append(batch) }
        try throwHookError()
        return batch.count
    }

    private func takeSequenced(_ limit: Int) async -> Int {
        guard let batch = await sequencedQueue?.poll(maxMessages: limit), !batch.isEmpty else { return 0 }
        collected.append(batch)
        lastSequencedTaken = batch[batch.count - 1].offset
        return batch.count
    }

    /// The collected messages by role, and the next input offset per partition.
    private func sortCollected() -> (inputs: MessageViews, sequenced: MessageViews, inputOffsets: [TopicPartition: Int64]) {
        var inputs = MessageViews(), sequencedMessages = MessageViews()
        var inputOffsets: [TopicPartition: Int64] = [:]
        var handle: OpaquePointer?
        var topic = ""
        // Messages come in runs per partition: a run's next offset is stored once, at its end.
        var run: (partition: Int32, first: Int64, next: Int64)?
        func endRun() {
            if let r = run {
                inputOffsets[TopicPartition(settings.inputTopic, r.partition)] = r.next
                checkInputGap(partition: r.partition, first: r.first)
                inputNext[r.partition] = r.next
            }
            run = nil
        }
        for (index, batch) in collected.enumerated() {
            for m in batch {
                if m.topicHandle != handle {
                    handle = m.topicHandle
                    topic = m.topic
                }
                if !revokedAt.isEmpty, let cut = revokedAt[TopicPartition(topic, m.partition)], index < cut { continue }
                if topic == sequenced.topic && m.partition == sequenced.partition {
                    sequencedMessages.items.append(m)
                } else if topic == settings.inputTopic {
                    inputs.items.append(m)
                    if run?.partition != m.partition { endRun() }
                    run = (m.partition, run?.first ?? m.offset, m.offset + 1)
                }
            }
        }
        endRun()
        return (inputs, sequencedMessages, inputOffsets)
    }

    struct StageTwoResult: Sendable {
        var output = AggregateStage.Output()
        var read = 0
        var lastOffset: Int64 = -1
        /// The sequenced offset to commit (see `AggregateStage.committableOffset`); nil: none read.
        var commit: Int64?
        var duration = Duration.zero
    }

    /// Stage 2: decodes the sequenced records (log order, each offset once) and aggregates every
    /// segment they complete.
    private func aggregate(_ messages: MessageViews, after lastOffset: Int64) -> StageTwoResult {
        let started = ContinuousClock.now
        var result = StageTwoResult(lastOffset: lastOffset)
        var entries: [SegmentAssembler.Entry] = []
        entries.reserveCapacity(messages.items.count)
        for m in messages.items {
            guard m.offset > result.lastOffset else {
                logger.error("sequenced record out of order skipped", metadata: ["offset": "\(m.offset)", "last": "\(result.lastOffset)"])
                continue
            }
            result.lastOffset = m.offset
            let timestamp = m.timestamp ?? 0
            let before = entries.count
            if let value = m.value, SequencedPack.unpack(value, into: &entries, { .init(offset: m.offset, timestampMillis: timestamp, record: $0) }) {
                result.read += entries.count - before
            } else {
                logger.error("undecodable sequenced record skipped", metadata: ["offset": "\(m.offset)"])
                entries.append(.init(offset: m.offset, timestampMillis: timestamp, record: nil))
                result.read += 1
            }
        }
        context.stage.process(entries, into: &result.output)
        if result.lastOffset > lastOffset {
            let commit = context.stage.committableOffset(next: result.lastOffset + 1)
            result.commit = commit
            // Here, not after the stages: it overlaps with stage 1 like the rest of stage 2.
            addSnapshotIfDue(&result.output.changelog, id: commit)
        }
        result.duration = .now - started
        return result
    }

    private func throwHookError() throws {
        if let error = hookError {
            hookError = nil
            throw error
        }
    }

    private func runBatch() async throws {
        let polling = previousBatchEnd ?? ContinuousClock.now
        try await collect()
        guard !collected.isEmpty else {
            try await settleInFlight()
            try throttleInput()
            return updateGauges()
        }
        let started = ContinuousClock.now
        let (inputs, sequencedMessages, inputOffsets) = sortCollected()
        // Stage 1 (stateless, in slices) and stage 2 (this batch's sequenced records) touch
        // disjoint data: they run in parallel.
        let owner = context.stage.isOwned && !sequencedMessages.items.isEmpty
        if owner { try checkNothingSkipped(before: sequencedMessages.items[0].offset) }
        async let stageTwo = owner ? aggregate(sequencedMessages, after: lastSequencedOffset) : StageTwoResult()
        var one = StageOne.Output()
        await withTaskGroup(of: (Int, StageOne.Output).self) { [stageOne, topic = settings.inputTopic] group in
            let count = inputs.items.count
            let slices = count >= 2_000 ? 2 : 1
            for slice in 0..<slices {
                group.addTask {
                    var out = StageOne.Output()
                    for i in (count * slice / slices)..<(count * (slice + 1) / slices) {
                        stageOne.process(inputs.items[i], topic: topic, into: &out)
                    }
                    return (slice, out)
                }
            }
            var outputs = [StageOne.Output](repeating: .init(), count: slices)
            for await (slice, out) in group { outputs[slice] = out }
            for out in outputs { one.append(out) }
        }
        let stageOneDone = ContinuousClock.now
        let two = await stageTwo
        // Not the owner (any more), or no sequenced record: the order guard and the sequenced
        // offset are left alone.
        if owner { lastSequencedOffset = two.lastOffset }
        sequencedRead += two.read
        let sequencedCommit = owner ? two.commit : nil
        context.metrics.consumed.increment(by: one.messages)
        one.finish()
        var timings = BatchTimings()
        timings.poll = started - polling
        timings.stageOne = stageOneDone - started
        timings.stageTwo = two.duration
        logger.trace("batch processed", metadata: [
            "poll_ms": "\(timings.poll.milliseconds)", "stage1_ms": "\(timings.stageOne.milliseconds)",
            "stage2_ms": "\(timings.stageTwo.milliseconds)", "end_batch_ms": "\(two.output.endBatchTime.milliseconds)",
            "input": "\(one.messages)", "sequenced_in": "\(two.read)", "segments": "\(two.output.segments)"])

        var offsets = inputOffsets.map { TopicPartitionOffset($0.key.topic, $0.key.partition, offset: $0.value) }
        if let offset = sequencedCommit { offsets.append(TopicPartitionOffset(sequenced.topic, 0, offset: offset)) }
        collected.removeAll(keepingCapacity: true)
        // One transaction at a time: the previous batch's must be committed before this one begins.
        try await settleInFlight()
        sequencedAppended += one.sequencedRecords
        let commitOffsetsToo = settings.guarantee == .exactlyOnce && isEmbeddedBroker()
        let ended = Flag()
        let appendsOwnRecords = one.sequencedRecords > 0 && context.stage.isOwned
        let task = Task { [self, timings] in
            defer {
                ended.set()
                consumer.wake()
            }
            var timings = timings
            try await publish(one, two.output, offsets: offsets, commitOffsetsToo: commitOffsetsToo, timings: &timings)
            let elapsed = ContinuousClock.now - started
            context.metrics.batchDuration.recordNanoseconds(elapsed.nanoseconds)
            context.metrics.batchMessages.record(one.messages + two.read)
            context.segmentsAggregated += two.output.segments
            if let observer = settings.batchObserver {
                observer(BatchReport(inputMessages: one.messages, aggregatedRecords: two.output.records,
                                     inputTimestampsMillis: two.output.inputTimestamps,
                                     sequencedTimestampsMillis: two.output.sequencedTimestamps, committedAtMillis: Timestamps.wallMillis(),
                                     timings: timings))
            }
        }
        inFlight = InFlight(task: task, ended: ended, appendsOwnRecords: appendsOwnRecords)
        previousBatchEnd = .now
        try throttleInput()
        updateGauges()
    }

    /// Adds the whole state as a snapshot to a batch's changelog records when `SnapshotSchedule` says so.
    private func addSnapshotIfDue(_ changelog: inout [ChangelogRecord], id: Int64) {
        guard !changelog.isEmpty, var schedule = snapshots else { return }
        defer { snapshots = schedule }
        guard schedule.needsSnapshot(changes: changelog.reduce(0) { $0 + $1.logBytes }) else { return }
        let started = ContinuousClock.now
        let snapshot = context.stage.changelogSnapshot(id: id)
        changelog += snapshot
        let size = snapshot.reduce(0) { $0 + $1.logBytes }
        schedule.wroteSnapshot(bytes: size)
        logger.debug("changelog snapshot", metadata: ["bytes": "\(size)", "id": "\(id)", "ms": "\((ContinuousClock.now - started).milliseconds)"])
        if 2 * size > schedule.budget && !warnedSnapshotSize {
            warnedSnapshotSize = true
            logger.warning("""
                the aggregation state is large for the embedded broker, which keeps only ~5 MiB of the changelog: it is \
                written again with nearly every batch, and past ~4 MiB a restart cannot restore it
                """, metadata: ["state_bytes": "\(size)"])
        }
    }

    /// Offsets of `partition` the broker dropped before they were read: reading was to go on at
    /// `expected` and goes on at `first`. A gap is normally transaction markers; only when the log
    /// now starts past `expected` was the consumer reset over dropped records.
    private func dropped(_ partition: TopicPartition, expected: Int64?, first: Int64) -> Range<Int64>? {
        guard let expected, first > expected, let logStart = consumer.cachedLogStart(partition), logStart > expected
        else { return nil }
        return expected..<min(logStart, first)
    }

    /// Stage 2 cannot go on without records it never read.
    private func checkNothingSkipped(before first: Int64) throws {
        guard let gap = dropped(sequenced, expected: lastSequencedOffset >= 0 ? lastSequencedOffset + 1 : nil, first: first)
        else { return }
        throw StateLost.sequencedRecords(topic: sequenced.topic, from: gap.lowerBound, to: gap.upperBound)
    }

    /// Dropped input is the sender's loss (the embedded broker keeps ~5 MiB per partition; a real
    /// cluster's retention): not fatal, but never silent.
    private func checkInputGap(partition: Int32, first: Int64) {
        let tp = TopicPartition(settings.inputTopic, partition)
        guard let gap = dropped(tp, expected: inputNext[partition], first: first) else { return }
        context.metrics.inputDropped.increment(by: gap.count)
        logger.error("input records were dropped by the broker before the worker read them: they are in no total", metadata: [
            "topic": "\(tp.topic)", "partition": "\(partition)", "offsets": "\(gap.lowerBound)..<\(gap.upperBound)"])
    }

    /// Waits for the batch being published (its acks and commit) and rethrows its failure.
    private func settleInFlight() async throws {
        guard let task = inFlight?.task else { return }
        inFlight = nil
        try await task.value
    }

    /// Stage 1 may run ahead of stage 2 by a bounded number of records of its own
    /// (`WorkerSettings.sequencedBacklogLimit`): the embedded broker keeps only ~5 MiB per
    /// partition, and a stage 2 far behind would find its next records gone there.
    private func throttleInput() throws {
        let backlog = context.stage.isOwned ? sequencedAppended - sequencedRead : 0
        let limit = settings.sequencedBacklogLimit(onEmbeddedBroker: isEmbeddedBroker())
        let pause = backlog > limit
        let resume = inputPaused && backlog <= limit / 2
        guard pause != inputPaused, pause || resume else { return }
        let inputs = try consumer.assignment().filter { $0.topic == settings.inputTopic }
        if pause { try consumer.pause(inputs) } else { try consumer.resume(inputs) }
        inputPaused = pause
        logger.debug(pause ? "input paused: stage 2 is behind" : "input resumed", metadata: ["backlog": "\(backlog)"])
    }

    /// Whether the cluster is the embedded broker; while unknown (no metadata yet), assumed so:
    /// its limits are the stricter ones, and what it needs is harmless on Kafka.
    private func isEmbeddedBroker() -> Bool {
        if onEmbeddedBroker == nil, let id = consumer.clusterID { onEmbeddedBroker = EmbeddedBroker.isEmbedded(clusterID: id) }
        return onEmbeddedBroker ?? true
    }

    /// outputs → ack → changelog → ack → offsets, in one transaction with exactly-once.
    /// `commitOffsetsToo`: also commit the offsets with the consumer once the transaction is
    /// committed (the embedded broker ignores offsets sent in a transaction).
    private func publish(_ one: StageOne.Output, _ two: AggregateStage.Output, offsets: [TopicPartitionOffset],
                         commitOffsetsToo: Bool, timings: inout BatchTimings) async throws {
        guard !offsets.isEmpty else { return }
        let transactional = settings.guarantee == .exactlyOnce
        let crash = context.crashPoint(aggregatedSegments: two.segments, emittedSummaries: !two.summaries.isEmpty)
        let published = ContinuousClock.now
        if transactional { try producer.beginTransaction() }
        do {
            for r in one.rejected { try await send(settings.rejectedTopic, r.key, r.value) }
            for r in one.sequenced { try await send(settings.sequencedTopic, nil, r, partition: 0) }
            for s in two.summaries { try await send(settings.summariesTopic, Array(s.key.utf8), s.value) }
            for a in two.alerts { try await send(settings.alertsTopic, Array(a.key.utf8), a.value) }
            for r in two.rejected { try await send(settings.rejectedTopic, r.key, r.value) }
            try await flush()
            let outputsAcked = ContinuousClock.now
            if crash == .afterOutputs { throw SimulatedCrash(point: .afterOutputs) }

            if !two.changelog.isEmpty {
                for c in two.changelog { try await send(settings.changelogTopic, Array(c.key.utf8), c.value, partition: 0) }
                try await flush()
            }
            if crash == .afterChangelog { throw SimulatedCrash(point: .afterChangelog) }

            let commitStarted = ContinuousClock.now
            var offsetsSent = commitStarted
            if transactional {
                let metadata = try consumer.groupMetadata()
                try await Retry.retriable(stop: publishingStopped) { () async throws(KafkaError) in
                    try await producer.sendOffsetsToTransaction(offsets, groupMetadata: metadata)
                }
                if crash == .beforeOffsets { throw SimulatedCrash(point: .beforeOffsets) }
                offsetsSent = .now
                try await Retry.retriable(stop: publishingStopped) { () async throws(KafkaError) in
                    try await producer.commitTransaction()
                }
                // Without it a restart or a rebalance there reads (and rejects) the input again. Not
                // awaited: closing the consumer waits for it, and a lost one only means a re-read.
                if commitOffsetsToo {
                    do { try await consumer.commit(offsets, wait: false) } catch { logger.debug("offsets not committed: \(error)") }
                }
            } else {
                if crash == .beforeOffsets { throw SimulatedCrash(point: .beforeOffsets) }
                try await Retry.retriable(stop: publishingStopped) { () async throws(KafkaError) in
                    try await consumer.commit(offsets, wait: true)
                }
                offsetsSent = .now
            }
            let committed = ContinuousClock.now
            timings.flushOutputs = outputsAcked - published
            timings.flushChangelog = commitStarted - outputsAcked
            timings.sendOffsets = offsetsSent - commitStarted
            timings.commit = committed - offsetsSent
            context.metrics.commitDuration.recordNanoseconds((committed - commitStarted).nanoseconds)
            logger.trace("batch published", metadata: [
                "outputs_ms": "\((outputsAcked - published).milliseconds)", "changelog_ms": "\((commitStarted - outputsAcked).milliseconds)",
                "commit_ms": "\((committed - commitStarted).milliseconds)", "offsets": "\(offsets.count)",
                "sequenced": "\(one.sequencedRecords)", "summaries": "\(two.summaries.count)", "changelog": "\(two.changelog.count)"])
        } catch let error as KafkaError {
            throw BatchFailure(error: error, transactionOpen: transactional)
        }
    }

    /// Retries of a publish end when the worker stops or the session abandons the batch.
    private func publishingStopped() -> Bool { context.stopRequested() || Task.isCancelled }

    private func send(_ topic: String, _ key: [UInt8]?, _ value: [UInt8]?, partition: Int32? = nil) async throws(KafkaError) {
        do {
            try producer.trySend(topic: topic, partition: partition, key: key, value: value)
        } catch where error.code == .queueFull {
            try await producer.send(topic: topic, partition: partition, key: key, value: value)
        }
    }

    /// Waits for every ack; during a broker outage that simply takes longer (librdkafka retries).
    private func flush() async throws(KafkaError) {
        while true {
            do {
                return try await producer.flush(timeout: .seconds(10))
            } catch where error.code == .timedOut && !publishingStopped() {
                logger.warning("waiting for the broker to acknowledge the batch")
            }
        }
    }

    private func updateGauges() {
        let restarts = consumer.fetchRestarts
        if restarts > fetchRestartsReported {
            context.metrics.fetchRestarts.increment(by: restarts - fetchRestartsReported)
            fetchRestartsReported = restarts
        }
        guard ContinuousClock.now - lastLagReport >= .seconds(5) else { return }
        lastLagReport = .now
        for (tp, lag) in consumer.lag() { context.metrics.lag(topic: tp.topic, partition: tp.partition, value: lag) }
    }
}

/// A batch that failed after its transaction (if any) was begun.
struct BatchFailure: Error, CustomStringConvertible {
    var error: KafkaError
    var transactionOpen: Bool
    var description: String { "batch failed: \(error)" }
}

/// Thrown by the crash test hook; the worker drops its clients without any cleanup.
struct SimulatedCrash: Error {
    var point: CrashPoint
}

enum Retry {
    /// Repeats `body` while it fails with a retriable error (and the worker is not stopping).
    static func retriable(stop: () -> Bool, _ body: () async throws(KafkaError) -> Void) async throws(KafkaError) {
        var delay = Duration.milliseconds(50)
        while true {
            do {
                return try await body()
            } catch where error.isRetriable && !error.isFatal && !stop() {
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }
}

extension Duration {
    var milliseconds: Int64 { nanoseconds / 1_000_000 }

    var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}

/// A batch being published, and what the next batch's collecting needs to know of it.
private struct InFlight {
    let task: Task<Void, any Error>
    /// Set when the task has ended (collecting goes on until then).
    let ended: Flag
    /// Whether it appends sequenced records this worker's stage 2 reads back.
    let appendsOwnRecords: Bool
}

/// A one-way switch shared with a task.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

/// Message views handed to the parallel stages. The batches they point into stay alive (in
/// `collected`) until the stages are done, and nobody writes to them.
struct MessageViews: @unchecked Sendable {
    var items: [KafkaMessageView] = []
}
