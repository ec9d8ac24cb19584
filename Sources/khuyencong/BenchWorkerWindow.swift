import Kafka
import KafkaBaseline
import Logging
import Pipeline

/// Measures a run's window from outside its consumer group: from the first partition assignment
/// until the group's committed offsets reach the end of every input partition (and of the
/// worker's sequenced partition). The consumer that asks never joins the group.
struct OffsetWatch {
    let bootstrap: String
    let inputEnds: [Int32: Int64]
    let logger: Logger
    let timeout: Duration
    /// Between two queries: a short pause keeps the queries from loading the one-threaded mock.
    let interval = Duration.milliseconds(10)

    /// `started`: the monotonic time of the first assignment, nil before it. `alive`: nil while the
    /// run can still finish, else why not. Returns the window in `MonotonicClock` nanoseconds.
    func window(
        group: String, sequenced: (partition: TopicPartition, guarantee: DeliveryGuarantee)?,
        started: () -> Int64?, alive: () -> String?
    ) async throws -> (start: Int64, end: Int64) {
        var config = KafkaConsumerConfiguration(bootstrapServers: bootstrap, groupID: group)
        config.properties = WorkerSettings.clientTuning
        let consumer = try KafkaConsumer(configuration: config, logger: logger)
        do {
            let window = try await measure(consumer, group: group, sequenced: sequenced, started: started, alive: alive)
            await consumer.close()
            return window
        } catch {
            await consumer.close()
            throw error
        }
    }

    private func measure(
        _ consumer: KafkaConsumer, group: String,
        sequenced: (partition: TopicPartition, guarantee: DeliveryGuarantee)?,
        started: () -> Int64?, alive: () -> String?
    ) async throws -> (start: Int64, end: Int64) {
        let deadline = ContinuousClock.now + timeout
        var start: Int64?
        while start == nil {
            if let reason = alive() { throw BenchFailure(reason) }
            guard ContinuousClock.now < deadline else {
                throw BenchFailure("\(group): no partition assignment within \(timeout)")
            }
            start = started()
            if start == nil { try await Task.sleep(for: .milliseconds(2)) }
        }
        let inputs = inputEnds.keys.sorted().map { TopicPartition(BenchWorker.inputTopic, $0) }
        let total = inputEnds.values.reduce(0, +)
        var committedInput: Int64 = 0
        var lastProgress = ContinuousClock.now
        var sequencedTarget: Int64?
        while true {
            if let reason = alive() { throw BenchFailure(reason) }
            guard ContinuousClock.now < deadline, ContinuousClock.now - lastProgress < .seconds(60) else {
                throw BenchFailure(
                    "\(group): \(committedInput) of \(total) input offsets committed"
                        + (sequencedTarget.map { ", sequenced partition not committed up to \($0)" } ?? "")
                        + " after \(timeout) (or 60 s without progress)")
            }
            if sequencedTarget == nil {
                let committed = try await consumer.committed(inputs)
                let sum = committed.reduce(Int64(0)) { $0 + max(0, min($1.offset, inputEnds[$1.partition] ?? 0)) }
                if sum > committedInput { (committedInput, lastProgress) = (sum, .now) }
                if sum == total {
                    guard let sequenced else { return (start!, MonotonicClock.nanoseconds) }
                    // Stage 1's last transaction (appends and input offsets) is committed: the
                    // partition's end no longer moves. With exactly-once its last record is that
                    // transaction's commit marker, which no consumer reads or commits past.
                    let (_, high) = try await consumer.watermarks(sequenced.partition)
                    guard high > 0 else { throw BenchFailure("\(group): the sequenced partition is empty") }
                    sequencedTarget = sequenced.guarantee == .exactlyOnce ? high - 1 : high
                    lastProgress = .now
                    continue
                }
            } else if let sequenced, let target = sequencedTarget {
                let committed = try await consumer.committed([sequenced.partition])
                if let offset = committed.first?.offset, offset >= target {
                    return (start!, MonotonicClock.nanoseconds)
                }
            }
            try await Task.sleep(for: interval)
        }
    }
}
