import Domain
import Kafka
import Logging

/// One processed batch as it goes to Kafka.
struct PublishableBatch: Sendable {
    var validated: ValidateStage.Output
    var aggregated: AggregateStage.Output
    /// The next offset of every input partition read, and the sequenced offset to commit.
    var offsets: [TopicPartitionOffset]
    /// Where a test makes this batch stop as if the process died.
    var crash: CrashPoint?
}

/// Publishes a batch: outputs → acks → changelog → acks → offsets. Exactly-once and
/// at-least-once differ only in how the offsets are tied to the outputs.
protocol BatchPublisher: Sendable {
    /// Publishes `batch` and records where its time went in `timings`. Throws `BatchFailure`
    /// for a Kafka error, `SimulatedCrash` at a test's crash point.
    func publish(_ batch: PublishableBatch, timings: inout BatchTimings) async throws
    /// Ends what a failed publish may have left open (the transaction), without committing.
    func abortOpenBatch() async
}

/// Sending and acknowledging outputs and changelog records: what both guarantees share.
struct OutputWriter: Sendable {
    let producer: KafkaProducer
    let settings: WorkerSettings
    let logger: Logger
    /// Where a conflict's rejection gets the input's bytes.
    let origins: OriginReader
    /// Retries of a publish end when the worker stops or the session abandons the batch.
    let stopped: @Sendable () -> Bool

    /// Outputs, then their acks, then the changelog and its acks; the test crash points between.
    /// Returns when the outputs were acknowledged.
    func writeOutputsAndChangelog(_ batch: PublishableBatch) async throws -> ContinuousClock.Instant {
        let one = batch.validated, two = batch.aggregated
        let stageTwoRejected = try await records(of: two.rejected)  // before the first send
        // Handles once per batch: a lookup by name per message (a lock and a string hash) cost
        // ~0.7 % of the worker's CPU with ~5,000 changelog records per batch.
        let rejectedTopic = try producer.topic(settings.rejectedTopic)
        for r in one.rejected { try await send(rejectedTopic, r.key, r.value) }
        let sequencedTopic = try producer.topic(settings.sequencedTopic)
        for r in one.sequenced { try await send(sequencedTopic, nil, r, partition: 0) }
        let summariesTopic = try producer.topic(settings.summariesTopic)
        for s in two.summaries { try await send(summariesTopic, Array(s.key.utf8), s.value) }
        let alertsTopic = try producer.topic(settings.alertsTopic)
        for a in two.alerts { try await send(alertsTopic, Array(a.key.utf8), a.value) }
        for r in stageTwoRejected { try await send(rejectedTopic, r.key, r.value) }
        try await flush()
        let outputsAcked = ContinuousClock.now
        if batch.crash == .afterOutputs { throw SimulatedCrash(point: .afterOutputs) }

        if !two.changelog.isEmpty {
            let changelogTopic = try producer.topic(settings.changelogTopic)
            for c in two.changelog { try await send(changelogTopic, Array(c.key.utf8), c.value, partition: 0) }
            try await flush()
        }
        if batch.crash == .afterChangelog { throw SimulatedCrash(point: .afterChangelog) }
        return outputsAcked
    }

    /// Stage 2's rejections as records, each conflict completed with its input's bytes read back.
    private func records(of rejected: [StageTwoRejection]) async throws -> [(key: [UInt8]?, value: [UInt8])] {
        let conflicts = rejected.compactMap { r -> InputOrigin? in
            if case .conflict(_, let origin) = r { origin } else { nil }
        }
        var originals = try await origins.read(conflicts)[...]  // no request when there is none
        // One decoder for the batch's conflicts (it builds its tables), made at the first one.
        var decoder: ExecutionUpdateDecoder?
        return rejected.map { r in
            switch r {
            case .ready(let key, let value):
                return (key, value)
            case .conflict(let facts, let origin):
                let made = decoder ?? ExecutionUpdateDecoder(registries: settings.registries)
                decoder = made
                let record = StageTwoRejection.conflictRecord(
                    facts, origin: origin, original: originals.popFirst() ?? nil, decoder: made)
                return (origin.key, record)
            }
        }
    }

    private func send(
        _ topic: KafkaTopic, _ key: [UInt8]?, _ value: [UInt8]?,
        partition: Int32? = nil
    ) async throws(KafkaError) {
        do {
            try producer.trySend(to: topic, partition: partition, key: key, value: value)
        } catch  where error.code == .queueFull {
            try await producer.send(to: topic, partition: partition, key: key, value: value)
        }
    }

    /// Waits for every ack; during a broker outage that simply takes longer (librdkafka retries).
    private func flush() async throws(KafkaError) {
        while true {
            do {
                return try await producer.flush(timeout: .seconds(10))
            } catch  where error.code == .timedOut && !stopped() {
                logger.warning("waiting for the broker to acknowledge the batch")
            }
        }
    }

    /// Records the phases and logs the publish.
    func finish(
        _ batch: PublishableBatch, started: ContinuousClock.Instant, outputsAcked: ContinuousClock.Instant,
        commitStarted: ContinuousClock.Instant, offsetsSent: ContinuousClock.Instant,
        metrics: PipelineMetrics, timings: inout BatchTimings
    ) {
        let committed = ContinuousClock.now
        timings.flushOutputs = outputsAcked - started
        timings.flushChangelog = commitStarted - outputsAcked
        timings.sendOffsets = offsetsSent - commitStarted
        timings.commit = committed - offsetsSent
        metrics.commitDuration.recordNanoseconds((committed - commitStarted).wholeNanoseconds)
        logger.trace(
            "batch published",
            metadata: [
                "outputs_ms": "\((outputsAcked - started).wholeMilliseconds)",
                "changelog_ms": "\((commitStarted - outputsAcked).wholeMilliseconds)",
                "commit_ms": "\((committed - commitStarted).wholeMilliseconds)", "offsets": "\(batch.offsets.count)",
                "sequenced": "\(batch.validated.sequencedRecords)", "summaries": "\(batch.aggregated.summaries.count)",
                "changelog": "\(batch.aggregated.changelog.count)",
            ])
    }
}

/// Exactly-once: the whole batch, offsets included, is one Kafka transaction.
struct TransactionalPublisher: BatchPublisher {
    let writer: OutputWriter
    let consumer: KafkaConsumer
    let metrics: PipelineMetrics
    /// Also commit the offsets with the consumer once the transaction is committed
    /// (`ClusterProfile.commitsOffsetsAfterTransaction`).
    let alsoCommitsOffsets: Bool

    func publish(_ batch: PublishableBatch, timings: inout BatchTimings) async throws {
        guard !batch.offsets.isEmpty else { return }
        let producer = writer.producer, stopped = writer.stopped
        let started = ContinuousClock.now
        // A failure to begin leaves no transaction open: it is a session error, not the batch's.
        try producer.beginTransaction()
        do {
            let outputsAcked = try await writer.writeOutputsAndChangelog(batch)
            let commitStarted = ContinuousClock.now
            let metadata = try consumer.groupMetadata()
            try await Retry.retriable(stop: stopped) { () async throws(KafkaError) in
                try await producer.sendOffsetsToTransaction(batch.offsets, groupMetadata: metadata)
            }
            if batch.crash == .beforeOffsets { throw SimulatedCrash(point: .beforeOffsets) }
            let offsetsSent = ContinuousClock.now
            try await Retry.retriable(stop: stopped) { () async throws(KafkaError) in
                try await producer.commitTransaction()
            }
            // Without it a restart or a rebalance there reads (and rejects) the input again. Not
            // awaited: closing the consumer waits for it, and a lost one only means a re-read.
            if alsoCommitsOffsets {
                do { try await consumer.commit(batch.offsets, wait: false) } catch {
                    writer.logger.debug("offsets not committed: \(error)")
                }
            }
            writer.finish(
                batch, started: started, outputsAcked: outputsAcked, commitStarted: commitStarted,
                offsetsSent: offsetsSent, metrics: metrics, timings: &timings)
        } catch let error as KafkaError {
            throw BatchFailure(error: error)
        }
    }

    func abortOpenBatch() async {
        do { try await writer.producer.abortTransaction(timeout: .seconds(10)) } catch {
            writer.logger.debug("abort: \(error)")
        }
    }
}

/// At-least-once: no transaction; the offsets are committed once outputs and changelog are acknowledged.
struct AtLeastOncePublisher: BatchPublisher {
    let writer: OutputWriter
    let consumer: KafkaConsumer
    let metrics: PipelineMetrics

    func publish(_ batch: PublishableBatch, timings: inout BatchTimings) async throws {
        guard !batch.offsets.isEmpty else { return }
        let started = ContinuousClock.now
        do {
            let outputsAcked = try await writer.writeOutputsAndChangelog(batch)
            let commitStarted = ContinuousClock.now
            if batch.crash == .beforeOffsets { throw SimulatedCrash(point: .beforeOffsets) }
            try await Retry.retriable(stop: writer.stopped) { () async throws(KafkaError) in
                try await consumer.commit(batch.offsets, wait: true)
            }
            let offsetsSent = ContinuousClock.now
            writer.finish(
                batch, started: started, outputsAcked: outputsAcked, commitStarted: commitStarted,
                offsetsSent: offsetsSent, metrics: metrics, timings: &timings)
        } catch let error as KafkaError {
            throw BatchFailure(error: error)
        }
    }

    /// Nothing is open between batches without transactions.
    func abortOpenBatch() async {}
}

/// A batch that failed with a Kafka error while it was published.
struct BatchFailure: Error, CustomStringConvertible {
    var error: KafkaError
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
            } catch  where error.isRetriable && !error.isFatal && !stop() {
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }
}
