import Domain
import Logging
import Synchronization

/// State shared by the worker, its sessions and the HTTP queries.
final class WorkerContext: Sendable {
    let settings: WorkerSettings
    let logger: Logger
    let metrics = PipelineMetrics()
    let stage: AggregateStage
    let liveness: Liveness
    private let stop = Atomic<Bool>(false)
    private let joined = Atomic<Bool>(false)
    private let segments = Atomic<Int>(0)

    init(settings: WorkerSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        liveness = Liveness(stallLimit: settings.stallLimit)
        stage = AggregateStage(
            configuration: AggregatorConfiguration(registries: settings.registries, rules: settings.rules),
            metrics: metrics, logger: logger)
    }

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
    func recordPublished(one: ValidateStage.Output, two: AggregateStage.Output, elapsed: Duration,
                         timings: BatchTimings) {
        metrics.batchDuration.recordNanoseconds(elapsed.wholeNanoseconds)
        metrics.batchMessages.record(one.messages + two.read)
        segmentsAggregated += two.segments
        guard let observer = settings.batchObserver else { return }
        observer(BatchReport(
            inputMessages: one.messages, aggregatedRecords: two.records, inputTimestampsMillis: two.inputTimestamps,
            sequencedTimestampsMillis: two.sequencedTimestamps, committedAtMillis: Timestamps.wallMillis(),
            timings: timings))
    }

    /// The crash the test plan asks for in a batch that aggregated `aggregatedSegments` segments
    /// and emitted summaries.
    func crashPoint(aggregatedSegments: Int, emittedSummaries: Bool) -> CrashPoint? {
        guard let plan = settings.crashPlan, aggregatedSegments > 0, emittedSummaries,
              segments.load(ordering: .relaxed) + aggregatedSegments > plan.afterSegments else { return nil }
        return plan.point
    }
}
