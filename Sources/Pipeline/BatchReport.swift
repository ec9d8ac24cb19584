/// What one committed batch did, for benchmarks and tests.
public struct BatchReport: Sendable {
    /// Input messages validated by stage 1.
    public var inputMessages: Int
    /// Sequenced records aggregated by stage 2.
    public var aggregatedRecords: Int
    /// Per aggregated record: its input's Kafka timestamp (ms), to measure produce → summary.
    public var inputTimestampsMillis: [Int64]
    /// Per aggregated record: when stage 1 appended it to the sequenced log (ms).
    public var sequencedTimestampsMillis: [Int64]
    /// Wall clock (ms since the epoch) when the batch's offsets were committed.
    public var committedAtMillis: Int64
    /// Where the batch's time went.
    public var timings = BatchTimings()
}

/// One batch's phases, in order (zero for a phase the batch skipped).
public struct BatchTimings: Sendable {
    /// From the end of the previous batch until this one was collected (empty polls included).
    public var poll = Duration.zero
    public var stageOne = Duration.zero
    public var stageTwo = Duration.zero
    /// Producing the outputs and waiting for their acks.
    public var flushOutputs = Duration.zero
    /// Producing the changelog records and waiting for their acks.
    public var flushChangelog = Duration.zero
    /// Sending the offsets to the transaction, or committing them (at-least-once).
    public var sendOffsets = Duration.zero
    /// Committing the transaction (exactly-once).
    public var commit = Duration.zero

    public init() {}

    /// The phases with their names, in order.
    public var phases: [(name: String, duration: Duration)] {
        [
            ("poll", poll), ("stage 1", stageOne), ("stage 2", stageTwo), ("flush outputs", flushOutputs),
            ("flush changelog", flushChangelog), ("send offsets", sendOffsets), ("commit", commit),
        ]
    }
}
