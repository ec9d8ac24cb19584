import Domain
import Kafka
import Logging

/// One consumer + one producer and the batch loop over them. A session ends when the worker
/// stops (returns), on a simulated crash, or on an error (throws); the worker then decides
/// whether to start a new session (abortable/transient errors) or to give up (fatal).
///
/// An actor: the batch loop runs in it, and the rebalance hooks, which librdkafka runs inside
/// `consumer.poll` (while the loop waits for that poll), enter it too. Its parts (`BatchCollector`,
/// the publish in flight, the backlog) are plain state of the actor.
actor WorkerSession {
    let context: WorkerContext
    let profile: ClusterProfile
    private let producer: KafkaProducer
    private let collector: BatchCollector
    private let processor: BatchProcessor
    private let publisher: any BatchPublisher
    private let stageTwo: StageTwoOwnership
    private var publishing = Publishing.idle
    private var backlog = SequencedBacklog()
    /// When the previous batch was handed to its publish: a batch's poll time includes the empty polls before it.
    private var previousBatchEnd: ContinuousClock.Instant?

    private var logger: Logger { context.logger }

    /// Builds the clients and joins the group.
    static func start(context: WorkerContext, profile: ClusterProfile) async throws -> WorkerSession {
        let clients = try await WorkerClients(context: context, profile: profile)
        let session = WorkerSession(context: context, profile: profile, clients: clients)
        try await session.subscribe()
        return session
    }

    private init(context: WorkerContext, profile: ClusterProfile, clients: WorkerClients) {
        self.context = context
        self.profile = profile
        producer = clients.producer
        publisher = clients.publisher
        collector = BatchCollector(
            consumer: clients.consumer, producer: clients.producer, settings: context.settings,
            metrics: context.metrics, logger: context.logger)
        processor = BatchProcessor(
            validate: ValidateStage(
                decoder: ExecutionUpdateDecoder(registries: context.settings.registries),
                metrics: context.metrics),
            aggregate: context.stage)
        stageTwo = StageTwoOwnership(context: context, profile: profile)
    }

    private func subscribe() throws(KafkaError) {
        let consumer = collector.consumer
        consumer.setRebalanceHooks(
            KafkaRebalanceHooks(
                beforeRevoke: { [weak self] partitions, lost in await self?.beforeRevoke(partitions, lost: lost) },
                afterAssign: { [weak self] partitions in await self?.afterAssign(partitions) }))
        consumer.readSeparately(collector.sequenced)
        try consumer.subscribe(topics: [context.settings.inputTopics.subscription, context.settings.sequencedTopic])
    }

    // MARK: The loop

    /// Runs batches until the worker is asked to stop, then leaves the group.
    func run() async throws {
        while !context.stopRequested() {
            try await runOnce()
        }
        try await settlePublish()
        await collector.close()
        await producer.shutdown()
    }

    /// One batch through the topology: collect → stage 1 ∥ stage 2 → publish. The publish runs
    /// on while the next batch is collected and processed; a rebalance, the next publish or the
    /// end of the session waits for it first.
    private func runOnce() async throws {
        let pollStarted = previousBatchEnd ?? .now
        guard let batch = try await collector.collect(while: publishing) else {
            try await idle()
            context.liveness.progressed(inputWaiting: collector.inputLags)
            return
        }
        context.liveness.inputArrived()
        let started = ContinuousClock.now
        try collector.checkNothingSkipped(batch, expected: context.stage.expectedNextOffset)
        // The next batch's input is read on this actor while the stages run off it.
        let readAhead = Task { try await collector.readAhead() }
        let processed = await processor.process(batch.input)
        withExtendedLifetime(batch) {}  // the processor read the polled messages in place
        try await readAhead.value
        let offsets = batch.inputOffsets + collector.sequencedOffsets(commit: processed.aggregated.commitOffset)
        try await settlePublish()  // one transaction at a time
        backlog.record(
            appended: processed.validated.sequencedRecords, appendedBytes: processed.validated.sequencedBytes,
            read: processed.aggregated.read, readBytes: processed.aggregated.readBytes)
        publishing = .inFlight(startPublish(processed, offsets: offsets, pollStarted: pollStarted, started: started))
        previousBatchEnd = .now
        try throttleInput()
        collector.reportGauges()
        context.liveness.progressed(inputWaiting: true)
    }

    /// Nothing was collected: the publish in flight ends, and back-pressure may lift.
    private func idle() async throws {
        try await settlePublish()
        try throttleInput()
        collector.reportGauges()
    }

    /// Starts publishing a processed batch in a task of its own.
    private func startPublish(
        _ processed: ProcessedBatch, offsets: [TopicPartitionOffset], pollStarted: ContinuousClock.Instant,
        started: ContinuousClock.Instant
    ) -> InFlightPublish {
        let one = processed.validated, two = processed.aggregated
        var timings = BatchTimings()
        timings.poll = started - pollStarted
        timings.stageOne = processed.stageOneDuration
        timings.stageTwo = two.duration
        logger.trace(
            "batch processed",
            metadata: [
                "poll_ms": "\(timings.poll.wholeMilliseconds)", "stage1_ms": "\(timings.stageOne.wholeMilliseconds)",
                "stage2_ms": "\(timings.stageTwo.wholeMilliseconds)",
                "end_batch_ms": "\(two.endBatchTime.wholeMilliseconds)",
                "input": "\(one.messages)", "sequenced_bytes": "\(one.sequencedBytes)", "sequenced_in": "\(two.read)",
                "segments": "\(two.segments)",
            ])
        let batch = PublishableBatch(
            validated: one, aggregated: two, offsets: offsets,
            crash: context.crashPoint(aggregatedSegments: two.segments, emittedSummaries: !two.summaries.isEmpty))
        let ended = Flag()
        let task = Task.detached { [publisher, context, consumer = collector.consumer, timings] in
            defer {
                ended.set()
                consumer.wake()
            }
            var timings = timings
            try await publisher.publish(batch, timings: &timings)
            context.recordPublished(one: one, two: two, elapsed: .now - started, timings: timings)
        }
        let appendsOwnRecords = one.sequencedRecords > 0 && context.stage.isOwned
        return InFlightPublish(task: task, ended: ended, appendsOwnRecords: appendsOwnRecords)
    }

    /// Waits for the batch being published (its acks and commit) and rethrows its failure.
    private func settlePublish() async throws {
        guard case .inFlight(let publish) = publishing else { return }
        publishing = .idle
        try await publish.task.value
    }

    /// Stage 1 may run ahead of stage 2 by a bounded backlog of its own
    /// (`ClusterProfile.sequencedBacklogLimit`): the embedded broker keeps only ~5 MiB per
    /// partition, and a stage 2 far behind would find its next records gone there.
    private func throttleInput() throws {
        try collector.throttle(
            backlog: context.stage.isOwned ? backlog : SequencedBacklog(), limit: profile.sequencedBacklogLimit)
    }

    /// Releases the clients after a failure (no commit). `abortTransaction`: end the open
    /// transaction, if the guarantee has one, instead of leaving it to time out.
    func abandon(abortTransaction: Bool) async {
        if case .inFlight(let publish) = publishing {
            publishing = .idle
            publish.task.cancel()
            _ = try? await publish.task.value
        }
        if abortTransaction { await publisher.abortOpenBatch() }
        await collector.close()
        await producer.shutdown(timeout: .seconds(5))
    }

    // MARK: Rebalance hooks

    private func beforeRevoke(_ partitions: [TopicPartition], lost: Bool) async {
        // The batch in flight is finished first. Nothing is produced while a batch is collected,
        // so "abort" is simply dropping what was polled from these partitions; the next owner
        // starts from the committed offsets.
        await settlePublishInHook()
        collector.revoked(partitions)
        if partitions.contains(collector.sequenced) { stageTwo.revoked() }
        logger.info("partitions revoked", metadata: ["count": "\(partitions.count)", "lost": "\(lost)"])
    }

    private func afterAssign(_ partitions: [TopicPartition]) async {
        await settlePublishInHook()
        let (ownsSequenced, committed) = await collector.assigned(partitions)
        if ownsSequenced {
            backlog = SequencedBacklog()
            do {
                // Stopping mid-restore: the stage stays without state, so this worker aggregates
                // nothing before it stops (stage 1 still runs; it needs no state).
                guard try await stageTwo.assigned(committedOffset: committed) else { return }
            } catch {
                collector.recordHookError(error)
                return
            }
        }
        context.setReady(consumerJoined: true)
        logger.info("partitions assigned", metadata: ["count": "\(partitions.count)"])
    }

    /// A failure of the batch in flight surfaces after the poll that ran the hook.
    private func settlePublishInHook() async {
        do { try await settlePublish() } catch { collector.recordHookError(error) }
    }
}
