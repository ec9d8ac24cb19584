import Domain
import Logging
import Synchronization

/// State shared by the worker, its sessions and the readers of its own state (the demo's live table).
final class WorkerContext: Sendable {
    let settings: WorkerSettings
    let logger: Logger
    let metrics = PipelineMetrics()
    let stage: AggregateStage
    let liveness: Liveness
    private let stop = Atomic<Bool>(false)
    private let joined = Atomic<Bool>(false)
    private let segments = Atomic<Int>(0)
    /// When `Worker.run` started, for `khuyencong_recovery_seconds`.
    private let started = Mutex<ContinuousClock.Instant>(.now)
    private let firstBatchCommitted = Atomic<Bool>(false)
    private let recovery = Mutex<Double?>(nil)

    init(settings: WorkerSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        liveness = Liveness(stallLimit: settings.stallLimit)
        stage = AggregateStage(
            configuration: AggregatorConfiguration(registries: settings.registries, rules: settings.rules),
            metrics: metrics, logger: logger)
    }

    /// `Worker.run` starts now: recovery is measured from here.
    func markStarted() { started.withLock { $0 = .now } }

    func requestStop() { stop.store(true, ordering: .releasing) }
    @Sendable func stopRequested() -> Bool { stop.load(ordering: .acquiring) }

    var isReady: Bool { joined.load(ordering: .acquiring) }

    /// Ready = joined, and restored when owning the sequenced partition (restore runs before
    /// this is called with `true`).
    func setReady(consumerJoined: Bool) {
        joined.store(consumerJoined, ordering: .releasing)
        metrics.ready.record(consumerJoined ? 1 : 0)
    }

    func endRun() {
        setReady(consumerJoined: false)
        stage.drop()
    }

    var segmentsAggregated: Int {
        get { segments.load(ordering: .relaxed) }
        set { segments.store(newValue, ordering: .relaxed) }
    }

    /// A batch's publish is done: its metrics, and the report for benchmarks and tests.
    func recordPublished(
        one: ValidateStage.Output, two: AggregateStage.Output, elapsed: Duration,
        timings: BatchTimings
    ) {
        metrics.batchDuration.recordNanoseconds(elapsed.wholeNanoseconds)
        metrics.batchMessages.record(one.messages + two.read)
        segmentsAggregated += two.segments
        if !firstBatchCommitted.exchange(true, ordering: .relaxed) { recordRecovery() }
        guard let observer = settings.batchObserver else { return }
        observer(
            BatchReport(
                inputMessages: one.messages, aggregatedRecords: two.records, inputTimestampsMillis: two.inputTimestamps,
                sequencedTimestampsMillis: two.sequencedTimestamps, committedAtMillis: Timestamps.wallMillis(),
                timings: timings))
    }

    /// How long this worker took to get going (joining, restoring, its first transaction): what
    /// a crash costs the stream, whatever the cause of the wait.
    private func recordRecovery() {
        let elapsed = ContinuousClock.now - started.withLock { $0 }
        let seconds = Double(elapsed.wholeMilliseconds) / 1000
        recovery.withLock { $0 = seconds }
        metrics.recovered(afterSeconds: seconds)
        logger.info(
            "first batch committed: the worker is processing",
            metadata: [
                "recovery_seconds": "\(seconds)"
            ])
    }

    /// Seconds from the start to the first committed batch; nil before it (tests).
    var recoverySeconds: Double? { recovery.withLock { $0 } }

    /// The crash the test plan asks for in a batch that aggregated `aggregatedSegments` segments
    /// and emitted summaries.
    func crashPoint(aggregatedSegments: Int, emittedSummaries: Bool) -> CrashPoint? {
        guard let plan = settings.crashPlan, aggregatedSegments > 0, emittedSummaries,
            segments.load(ordering: .relaxed) + aggregatedSegments > plan.afterSegments
        else { return nil }
        return plan.point
    }
}
