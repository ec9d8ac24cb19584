import Kafka
import Logging

/// The messages of one batch, routed by role, and the polled Kafka batches their bytes live in.
struct CollectedBatch {
    /// What the processor reads; points into `polled`.
    let input: BatchInput
    /// The next offset of every input partition the batch read.
    let inputOffsets: [TopicPartitionOffset]
    /// Keeps the messages `input` points at alive (until this value is dropped).
    let polled: [KafkaMessageBatch]
}

/// The consumer side of the batch loop: polls a batch (the wait policy), routes its messages by
/// topic, drops what revoked partitions delivered, checks the logs for records the broker
/// dropped, and pauses the input while stage 2 is far behind.
///
/// Not Sendable: it belongs to one `WorkerSession`, whose isolation its async methods run in
/// (`nonisolated(nonsending)`); the rebalance hooks reach it through that session too.
final class BatchCollector {
    /// Where the sequenced partition's records come from.
    enum SequencedSource {
        /// Not assigned to this worker (or being handed over).
        case notAssigned
        /// Assigned: served from a queue of its own, never from the consumer queue.
        case ownQueue(KafkaPartitionQueue)
    }

    /// Back-pressure on the input partitions.
    enum InputFlow {
        case flowing
        /// Paused until stage 2 is back under half the backlog limit.
        case paused
    }

    let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let settings: WorkerSettings
    private let metrics: PipelineMetrics
    private let logger: Logger
    let sequenced: TopicPartition

    /// Polled for the open batch; nothing has been produced for them yet.
    private var polled: [KafkaMessageBatch] = []
    /// Partitions revoked while the batch was being collected → how many of `polled` were
    /// polled before: their messages of it are dropped (a partition assigned again restarts
    /// from its committed offset, so they would come twice, and out of order).
    private var revokedAt: [TopicPartition: Int] = [:]
    private(set) var sequencedSource = SequencedSource.notAssigned
    private(set) var inputFlow = InputFlow.flowing
    /// The offset of the last sequenced record polled.
    private var lastSequencedTaken: Int64 = -1
    /// Per input partition, the offset reading goes on at (the committed one at assignment).
    private var inputNext: [TopicPartition: Int64] = [:]
    /// A rebalance hook's failure, thrown after the poll that ran the hook.
    private var hookError: (any Error)?
    private var lastLagReport = ContinuousClock.now
    private var fetchRestartsReported = 0

    init(
        consumer: KafkaConsumer, producer: KafkaProducer, settings: WorkerSettings, metrics: PipelineMetrics,
        logger: Logger
    ) {
        self.consumer = consumer
        self.producer = producer
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        sequenced = TopicPartition(settings.sequencedTopic, 0)
    }

    // MARK: Collecting

    /// Starts from what `readAhead` took, then takes what is already fetched; when nothing is,
    /// waits (up to 100 ms) for the first message of either queue or for the publish in flight to
    /// end. Then drains: big batches under load, no waiting at low rates, except while the previous
    /// batch is still being published: this one could not be published sooner, so what arrives
    /// until then joins it instead of the next. nil: nothing arrived.
    nonisolated(nonsending) func collect(while publishing: Publishing) async throws -> CollectedBatch? {
        let limit = max(1, settings.batchMaxMessages)
        let readAhead = polled.reduce(0) { $0 + $1.count }
        var taken = try take(await consumer.poll(maxMessages: limit - readAhead, timeout: .zero))
        let sequencedTaken = await takeSequenced(limit)
        if readAhead == 0 && taken == 0 && sequencedTaken == 0 {
            await consumer.waitForMessages(timeout: .milliseconds(100))
            taken = try take(await consumer.poll(maxMessages: limit, timeout: .zero))
            _ = await takeSequenced(limit)
        }
        let deadline = ContinuousClock.now + .milliseconds(max(1, settings.batchMaxMilliseconds))
        var count = readAhead + taken
        var ownRecordsDeadline: ContinuousClock.Instant?
        while count < limit && ContinuousClock.now < deadline {
            if taken == 0 {
                guard case .inFlight(let publish) = publishing else { break }
                var until = deadline
                if publish.ended.isSet {
                    // Its sequenced records for this worker's stage 2 are readable once it is
                    // committed: a few ms more, and they are aggregated now, not a batch later.
                    guard publish.appendsOwnRecords,
                        let last = producer.lastDeliveredOffset(partition: sequenced.partition),
                        last > lastSequencedTaken
                    else { break }
                    let end = ownRecordsDeadline ?? .now + .milliseconds(5)
                    ownRecordsDeadline = end
                    until = min(until, end)
                    guard ContinuousClock.now < until else { break }
                }
                await consumer.waitForMessages(timeout: until - .now)
                _ = await takeSequenced(limit)
            }
            taken = try take(await consumer.poll(maxMessages: limit - count, timeout: .zero))
            count += taken
        }
        defer { revokedAt.removeAll() }  // after `route` has dropped the revoked partitions' messages
        guard !polled.isEmpty else { return nil }
        let (input, offsets) = route()
        let batch = CollectedBatch(input: input, inputOffsets: offsets, polled: polled)
        polled = []
        return batch
    }

    /// Takes the input already fetched for the next batch while the current one is processed:
    /// polling 20,000 messages took ~5 ms of every ~30 ms batch on one thread, while the stages
    /// waited for it. No rebalance hook runs here (`pollAhead`): one met waits for the next
    /// `collect`, whose first poll handles it, and a revoke then drops what was read ahead from
    /// the revoked partitions (`revoked`). Sequenced records are left for `collect`.
    nonisolated(nonsending) func readAhead() async throws {
        guard polled.isEmpty else { return }
        _ = try take(await consumer.pollAhead(maxMessages: max(1, settings.batchMaxMessages)))
    }

    /// Keeps a polled batch (a rebalance hook that ran in the poll counts it from then on).
    private func take(_ batch: KafkaMessageBatch) throws -> Int {
        if !batch.isEmpty { polled.append(batch) }
        if let error = hookError {
            hookError = nil
            throw error
        }
        return batch.count
    }

    private nonisolated(nonsending) func takeSequenced(_ limit: Int) async -> Int {
        guard case .ownQueue(let queue) = sequencedSource else { return 0 }
        let batch = await queue.poll(maxMessages: limit)
        guard !batch.isEmpty else { return 0 }
        polled.append(batch)
        lastSequencedTaken = batch[batch.count - 1].offset
        return batch.count
    }

    /// The polled messages by role, and the next input offset per partition.
    private func route() -> (BatchInput, [TopicPartitionOffset]) {
        var input = BatchInput(inputTopics: [])
        var offsets: [TopicPartition: Int64] = [:]
        var handle: OpaquePointer?
        var topic = ""
        // The current topic's index in `input.inputTopics` (nil: not an input topic).
        var topicIndex: Int32?
        var indexByTopic: [String: Int32] = [:]
        // Messages come in runs per partition: a run's next offset is stored once, at its end.
        var run: (partition: TopicPartition, first: Int64, next: Int64)?
        func endRun() {
            if let r = run {
                offsets[r.partition] = r.next
                checkInputGap(r.partition, first: r.first)
                inputNext[r.partition] = r.next
            }
            run = nil
        }
        for (index, batch) in polled.enumerated() {
            for m in batch {
                if m.topicHandle != handle {
                    handle = m.topicHandle
                    topic = m.topic
                    topicIndex = inputTopicIndex(topic, &input, &indexByTopic)
                }
                if !revokedAt.isEmpty, let cut = revokedAt[TopicPartition(topic, m.partition)], index < cut { continue }
                let message = MessageRef(
                    partition: m.partition, topic: topicIndex ?? 0, offset: m.offset,
                    timestampMillis: m.timestamp ?? 0, key: m.key, value: m.value)
                if topic == sequenced.topic && m.partition == sequenced.partition {
                    input.sequenced.append(message)
                } else if topicIndex != nil {
                    input.inputs.append(message)
                    if run?.partition.partition != m.partition || run?.partition.topic != topic {
                        endRun()
                        run = (TopicPartition(topic, m.partition), m.offset, m.offset + 1)
                    } else {
                        run?.next = m.offset + 1
                    }
                }
            }
        }
        endRun()
        return (input, offsets.map { TopicPartitionOffset($0.key.topic, $0.key.partition, offset: $0.value) })
    }

    /// `topic`'s index in `input.inputTopics`, added on first sight; nil when it is no input topic.
    private func inputTopicIndex(_ topic: String, _ input: inout BatchInput, _ known: inout [String: Int32]) -> Int32? {
        if let index = known[topic] { return index }
        let topics = settings.inputTopics
        guard topics.contains(topic) else { return nil }
        let index = Int32(input.inputTopics.count)
        input.inputTopics.append(InputTopic(name: topic, unit: topics.unit(of: topic)))
        known[topic] = index
        return index
    }

    /// The sequenced offset to commit with the batch's input offsets (none when stage 2 read nothing).
    func sequencedOffsets(commit: Int64?) -> [TopicPartitionOffset] {
        commit.map { [TopicPartitionOffset(sequenced.topic, sequenced.partition, offset: $0)] } ?? []
    }

    // MARK: Records the broker dropped

    /// Offsets of `partition` the broker dropped before they were read: reading was to go on at
    /// `expected` and goes on at `first`. A gap is normally transaction markers; only when the log
    /// now starts past `expected` was the consumer reset over dropped records.
    private func dropped(_ partition: TopicPartition, expected: Int64?, first: Int64) -> Range<Int64>? {
        guard let expected, first > expected, let logStart = consumer.cachedLogStart(partition), logStart > expected
        else { return nil }
        return expected..<min(logStart, first)
    }

    /// Stage 2 cannot go on without records it never read: throws `StateLost` when the batch's
    /// sequenced messages start past `expected` over records the broker dropped.
    func checkNothingSkipped(_ batch: CollectedBatch, expected: Int64?) throws {
        guard let first = batch.input.sequenced.first?.offset,
            let gap = dropped(sequenced, expected: expected, first: first)
        else { return }
        throw StateLost.sequencedRecords(topic: sequenced.topic, from: gap.lowerBound, to: gap.upperBound)
    }

    /// Dropped input is the sender's loss (the embedded broker keeps ~5 MiB per partition; a real
    /// cluster's retention): not fatal, but never silent.
    private func checkInputGap(_ partition: TopicPartition, first: Int64) {
        guard let gap = dropped(partition, expected: inputNext[partition], first: first) else { return }
        metrics.inputDropped.increment(by: gap.count)
        logger.error(
            "input records were dropped by the broker before the worker read them: they are in no total",
            metadata: [
                "topic": "\(partition.topic)", "partition": "\(partition.partition)",
                "offsets": "\(gap.lowerBound)..<\(gap.upperBound)",
            ])
    }

    // MARK: Rebalance

    /// Before `partitions` are revoked: what they delivered to the open batch is dropped.
    func revoked(_ partitions: [TopicPartition]) {
        for p in partitions {
            revokedAt[p] = polled.count
            if settings.inputTopics.contains(p.topic) { inputNext[p] = nil }
            // Another worker reports it now; a value left behind would look like a stalled partition.
            metrics.removeLag(p)
        }
        if partitions.contains(sequenced) { sequencedSource = .notAssigned }
    }

    /// After `partitions` are assigned: pauses the new inputs if the input is paused, and learns
    /// where reading starts, to tell a gap of transaction markers from records the broker dropped.
    /// Returns the sequenced partition's committed offset when it is among them (nil: none committed).
    nonisolated(nonsending) func assigned(_ partitions: [TopicPartition]) async
        -> (ownsSequenced: Bool, committed: Int64?)
    {
        let inputs = partitions.filter { settings.inputTopics.contains($0.topic) }
        if case .paused = inputFlow {
            do { try consumer.pause(inputs) } catch { recordHookError(error) }
        }
        let owning = partitions.contains(sequenced)
        let watched = inputs + (owning ? [sequenced] : [])
        var committed: [TopicPartition: Int64] = [:]
        if !watched.isEmpty {
            for c in (try? await consumer.committed(watched)) ?? [] where c.offset >= 0 {
                committed[c.topicPartition] = c.offset
            }
        }
        for p in inputs { inputNext[p] = committed[p] }
        if owning, let queue = consumer.partitionQueue(for: sequenced) { sequencedSource = .ownQueue(queue) }
        return (owning, owning ? committed[sequenced] : nil)
    }

    /// A hook cannot throw into librdkafka: its first error surfaces after the poll that ran it.
    func recordHookError(_ error: any Error) {
        hookError = hookError ?? error
    }

    // MARK: Back-pressure and gauges

    /// Pauses the input partitions once `backlog` (what stage 1 appended that this worker's
    /// stage 2 has not read yet) passes `limit`, and resumes them under half of it.
    func throttle(backlog: SequencedBacklog, limit: BacklogLimit) throws {
        let next: InputFlow
        switch inputFlow {
        case .flowing where limit.isExceeded(by: backlog): next = .paused
        case .paused where limit.isCleared(by: backlog): next = .flowing
        default: return
        }
        let inputs = try consumer.assignment().filter { settings.inputTopics.contains($0.topic) }
        if case .paused = next { try consumer.pause(inputs) } else { try consumer.resume(inputs) }
        inputFlow = next
        logger.debug(
            next == .paused ? "input paused: stage 2 is behind" : "input resumed",
            metadata: ["backlog": "\(backlog.records)", "backlog_bytes": "\(backlog.bytes)"])
    }

    func reportGauges() {
        let restarts = consumer.fetchRestarts
        if restarts > fetchRestartsReported {
            metrics.fetchRestarts.increment(by: restarts - fetchRestartsReported)
            fetchRestartsReported = restarts
        }
        guard ContinuousClock.now - lastLagReport >= .seconds(5) else { return }
        lastLagReport = .now
        // The statistics may still list partitions this worker no longer owns.
        let owned = Set((try? consumer.assignment()) ?? [])
        for (tp, lag) in consumer.lag() where owned.contains(tp) {
            metrics.lag(topic: tp.topic, partition: tp.partition, value: lag)
        }
        metrics.keepLag(only: owned)
    }

    /// Whether the latest statistics show an input partition of this worker behind its end.
    var inputLags: Bool {
        consumer.lag().contains { settings.inputTopics.contains($0.key.topic) && $0.value > 0 }
    }

    /// Leaves the group (runs the revoke hook for the remaining partitions).
    nonisolated(nonsending) func close() async {
        sequencedSource = .notAssigned
        await consumer.close()
    }
}
