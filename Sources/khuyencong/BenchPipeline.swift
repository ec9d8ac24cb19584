import ArgumentParser
import Domain
import Foundation
import Kafka
import KafkaBaseline
import Logging
import Pipeline
import Synchronization

/// `khuyencong bench pipeline`: the whole worker (stage 1 + stage 2, exactly-once) on the
/// embedded broker. The worker runs in a child process so that its peak RSS is its own, not the
/// embedded broker's (which holds every topic in memory) nor the generator's.
struct BenchPipeline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "End-to-end worker throughput, produce→summary latency and RSS on the embedded broker."
    )

    @Option(help: "Updates in the throughput phase.") var updates = 1_000_000
    @Option(help: "Input partitions (the embedded broker keeps only ~5 MiB per partition).") var partitions: Int32 = 64
    @Option(help: "Updates per second in the latency phase.") var latencyRate = 10_000
    @Option(help: "Seconds of the latency phase.") var latencySeconds = 10
    @Option(help: "Input partitions in the latency phase (its own topics; the contract's default).")
    var latencyPartitions: Int32 = TopicPlan.contractPartitions
    @Option(help: "exactly-once or at-least-once.") var guarantee = "exactly-once"
    @Option(help: "The worker's --batch-max-messages.") var batchMaxMessages = WorkerSettings.defaultBatchMaxMessages
    @Option(help: "The worker's --batch-max-ms.") var batchMaxMs = 20
    @Option(help: "linger.ms of the producer that writes the throughput phase's input beforehand.")
    var preloadLingerMs = 5
    @Option(help: .hidden) var workerBrokers: String?

    static let groupID = "bench-aggregator"
    /// Producers compress (lz4): the mock keeps ~5 MiB of stored (compressed) batches per partition.
    /// linger.ms 5, not less: the mock scans a partition's list of stored batches on every fetch,
    /// so a producer sending tiny batches slows it down more and more over a latency phase.
    static let producerTuning = [
        "compression.type": "lz4", "linger.ms": "5", "batch.num.messages": "10000",
        "queue.buffering.max.messages": "1000000", "queue.buffering.max.kbytes": "1048576",
    ]

    func run() async throws {
        if let brokers = workerBrokers { return try await WorkerSide(options: self, brokers: brokers).run() }
        try await ProducerSide(options: self).run()
    }

    /// The throughput phase's worker (`latency` false) or the latency phase's, on topics of its own.
    func settings(brokers: String, latency: Bool = false) throws -> WorkerSettings {
        let prefix = latency ? "bench.latency" : "bench"
        let settings = WorkerSettings(
            brokers: brokers, groupID: latency ? "bench-latency" : Self.groupID,
            inputTopic: prefix + ".execution-updates",
            summariesTopic: prefix + ".regional-summaries", alertsTopic: prefix + ".alerts",
            rejectedTopic: prefix + ".rejected",
            guarantee: DeliveryGuarantee(rawValue: guarantee) ?? .exactlyOnce,
            transactionalID: latency ? "bench-latency-worker" : "bench-worker",
            batchMaxMessages: batchMaxMessages, batchMaxMilliseconds: batchMaxMs,
            kafkaProperties: workerKafkaProperties, registries: try Registries.load(), rules: try AlertRules.bundled())
        // The sequenced backlog limit is the production default for the embedded broker (2.5 MiB of
        // packs, ~70,000 of the bench's records), as in `bench worker`.
        return settings
    }

    /// The worker's extra librdkafka properties: the embedded-broker tuning, then
    /// `KHUYENCONG_BENCH_KAFKA` ("key=value key=value", to try settings) and
    /// `KHUYENCONG_BENCH_KAFKA_DEBUG` (librdkafka `debug` contexts).
    var workerKafkaProperties: [String: String] {
        let environment = ProcessInfo.processInfo.environment
        var p = WorkerSettings.embeddedBrokerTuning
        for pair in (environment["KHUYENCONG_BENCH_KAFKA"] ?? "").split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { p[parts[0]] = parts[1] }
        }
        if let debug = environment["KHUYENCONG_BENCH_KAFKA_DEBUG"] { p["debug"] = debug }
        return p
    }
}

/// Parent: embedded broker, input data, C baseline, then the worker child and the latency phase.
private struct ProducerSide {
    let options: BenchPipeline

    func run() async throws {
        var logger = Logger(label: "bench", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .error
        let broker = try EmbeddedBroker(brokers: 3, logger: logger)
        let settings = try options.settings(brokers: broker.bootstrapServers)
        try ensureTopics(TopicPlan(settings, inputPartitions: options.partitions, outputPartitions: 6), on: broker)
        // The latency phase has topics of its own with the contract's partition count: 64 partitions
        // are only there so that the throughput phase's input fits the mock's 5 MiB per partition,
        // and at 10,000/s they would give the mock ~64 tiny stored batches to walk per fetch.
        let latencySettings = try options.settings(brokers: broker.bootstrapServers, latency: true)
        try ensureTopics(
            TopicPlan(latencySettings, inputPartitions: options.latencyPartitions, outputPartitions: 6), on: broker)

        let latencyCount = options.latencyRate * options.latencySeconds
        emit(
            "Pipeline bench: \(options.updates) updates through the whole worker (\(options.guarantee)), embedded "
                + "broker (3 brokers)")
        var clock = ContinuousClock.now
        var all = SyntheticUpdates.generate(
            count: options.updates + latencyCount, registries: settings.registries, seed: 2026)
        let averageBytes =
            Double(all.prefix(10_000).reduce(0) { $0 + $1.payload.count }) / Double(min(all.count, 10_000))
        emit(
            String(
                format: "  generated %d synthetic updates (%.0f B average) in %.1f s", all.count, averageBytes,
                seconds(since: clock)))
        emit(
            "  worker: --batch-max-messages \(settings.batchMaxMessages) --batch-max-ms "
                + "\(settings.batchMaxMilliseconds); Kafka properties "
                + "(over the worker's defaults): "
                + (settings.kafkaProperties.isEmpty ? "none" : describe(settings.kafkaProperties)))
        emit(
            "  worker defaults: producer " + describe(WorkerSettings.producerTuning) + " (sequenced topic "
                + describe(WorkerSettings.sequencedTopicTuning)
                + "); consumer " + describe(WorkerSettings.consumerTuning))
        emit(
            "  latency phase: its own topics and group, \(options.latencyPartitions) input partitions (the "
                + "contract's default)")
        emit(
            "  input: \(options.partitions) partitions keyed by province (63 keys), lz4-compressed batches: the "
                + "embedded broker")
        emit(
            String(
                format: "  keeps only ~5 MiB per partition; uncompressed this is %.1f MiB per used partition",
                Double(options.updates) * averageBytes / 63 / 1_048_576))

        var producerConfig = KafkaProducerConfiguration(bootstrapServers: broker.bootstrapServers)
        producerConfig.properties = BenchPipeline.producerTuning.merging(WorkerSettings.clientTuning) { $1 }
            .merging(WorkerSettings.embeddedBrokerTuning) { $1 }
        var preloadConfig = producerConfig
        preloadConfig.properties["linger.ms"] = String(options.preloadLingerMs)
        let preloader = try KafkaProducer(configuration: preloadConfig, logger: logger)
        clock = .now
        for m in all.prefix(options.updates) {
            try await send(preloader, settings.inputTopic, m)
        }
        await preloader.shutdown(timeout: .seconds(300))
        emit(String(format: "  produced in %.1f s (linger.ms=%d)", seconds(since: clock), options.preloadLingerMs))
        let producer = try KafkaProducer(configuration: producerConfig, logger: logger)
        let latencyPhase = Array(all.suffix(latencyCount))
        all = []

        // Baseline: a plain C rd_kafka_consume_batch_queue loop over the same topic.
        var cProps = WorkerSessionTuning.consumer
        cProps["bootstrap.servers"] = broker.bootstrapServers
        cProps["group.id"] = "bench-c-baseline"
        clock = .now
        let (cCount, _) = try await KafkaCBaseline.consume(
            properties: cProps, topic: settings.inputTopic,
            partitions: options.partitions, count: options.updates)
        let cRate = Double(cCount) / seconds(since: clock)

        // The worker, in a child process.
        let child = try WorkerChild.start(brokers: broker.bootstrapServers, options: options)
        var workerRate = 0.0
        var lines = child.lines.makeAsyncIterator()
        while let line = await lines.next() {
            emit("  worker: \(line)")
            if line.hasPrefix("throughput ") {
                workerRate = Double(line.split(separator: " ")[1]) ?? 0
                break
            }
            if line.hasPrefix("error") { throw ExitCode.failure }
        }
        // The latency worker joins its group first.
        while let line = await lines.next() {
            emit("  worker: \(line)")
            if line == "latency worker ready" { break }
            if line.hasPrefix("error") { throw ExitCode.failure }
        }
        // Latency phase: a steady rate, 1 ms ticks.
        let perTick = max(1, options.latencyRate / 1000)
        let start = ContinuousClock.now
        for (i, m) in latencyPhase.enumerated() {
            if i % perTick == 0 {
                let due = start + .milliseconds(i / perTick)
                if due > .now { try await Task.sleep(until: due) }
            }
            try await send(producer, latencySettings.inputTopic, m)
        }
        try await producer.flush(timeout: .seconds(60))
        while let line = await lines.next() { print("  worker: \(line)") }
        child.wait()
        await producer.shutdown()

        emit("  consumer settings (worker and C baseline): " + describe(WorkerSessionTuning.consumer))
        emit(
            "    sized for memory; once the queue passes queued.min.messages / queued.max.messages.kbytes "
                + "librdkafka 2.0.2")
        emit(
            "    idles its fetchers for up to 1 s (issue #2879), and both restart them as soon as the queue is drained")
        emit(
            String(
                format: "  C consume loop: %.0f msgs/s; worker end to end: %.0f updates/s = %.2f of the C loop",
                cRate, workerRate, cRate > 0 ? workerRate / cRate : 0))
    }

    private func send(_ producer: KafkaProducer, _ topic: String, _ m: WireMessageBytes) async throws {
        do {
            try producer.trySend(topic: topic, key: m.key, value: m.payload)
        } catch  where error.code == .queueFull {
            try await producer.send(topic: topic, key: m.key, value: m.payload)
        }
    }
}

/// Child: the worker itself, reporting throughput, latency and its own peak RSS on stdout.
private struct WorkerSide {
    let options: BenchPipeline
    let brokers: String

    final class Stats: Sendable {
        struct State {
            var firstBatch: ContinuousClock.Instant?
            var cpuAtFirstBatch = 0.0
            var stealAtPhaseStart = CPUSteal.now()
            var aggregated = 0
            var throughputDone = false
            var latencies: [Int64] = []
            /// Input timestamps, in the order of `latencies`.
            var produced: [Int64] = []
            var stageOneLatencies: [Int64] = []
            var inputSpan: (first: Int64, last: Int64) = (.max, .min)
            var phases = PhaseTotals()
        }
        let state = Mutex(State())
    }

    func run() async throws {
        let target = options.updates
        let latencyCount = options.latencyRate * options.latencySeconds
        let stats = Stats()
        let done = AsyncStream<String>.makeStream()
        // One observer for both workers; the throughput worker's batches after its phase are ignored.
        let observer = { (latencyWorker: Bool) -> @Sendable (BatchReport) -> Void in
            { report in
                let messages = stats.state.withLock { s -> [String] in
                    if !latencyWorker && s.throughputDone { return [] }
                    if s.firstBatch == nil && report.inputMessages > 0 {
                        s.firstBatch = .now
                        s.cpuAtFirstBatch = processCPUSeconds()
                        s.stealAtPhaseStart = CPUSteal.now()
                    }
                    if s.firstBatch != nil { s.phases.add(report.timings) }
                    if s.aggregated >= target {
                        s.latencies += report.inputTimestampsMillis.map { report.committedAtMillis - $0 }
                        s.produced += report.inputTimestampsMillis
                        s.stageOneLatencies += zip(report.inputTimestampsMillis, report.sequencedTimestampsMillis).map {
                            $1 - $0
                        }
                        for t in report.inputTimestampsMillis {
                            s.inputSpan = (min(s.inputSpan.first, t), max(s.inputSpan.last, t))
                        }
                    }
                    s.aggregated += report.aggregatedRecords
                    var out: [String] = []
                    if !s.throughputDone && s.aggregated >= target, let first = s.firstBatch {
                        s.throughputDone = true
                        let elapsed = seconds(since: first)
                        // CPU per update varies less than updates/s when the machine's other load does.
                        let cpu = processCPUSeconds() - s.cpuAtFirstBatch
                        out.append(
                            String(
                                format: "aggregated %d updates in %.2f s (first input batch → last summary "
                                    + "committed), worker CPU %.2f cores on average, %.1f µs per update",
                                s.aggregated, elapsed, cpu / elapsed, cpu / Double(max(s.aggregated, 1)) * 1e6))
                        out.append(s.phases.summary())
                        if let steal = CPUSteal.percent(since: s.stealAtPhaseStart) { out.append("  \(steal)") }
                        s.stealAtPhaseStart = CPUSteal.now()
                        s.phases = PhaseTotals()
                        out.append(String(format: "throughput %.0f", Double(target) / elapsed))
                    }
                    if s.latencies.count >= latencyCount && s.throughputDone {
                        // Steady state: updates produced in the phase's first second are its warm-up
                        // (the switch from the throughput phase, the producer's first metadata lookups).
                        let warmUp: Int64 = 1000
                        let steady = zip(s.latencies, s.produced).filter { $0.1 - s.inputSpan.first >= warmUp }
                        let sorted = steady.map(\.0).sorted()
                        let p = { (q: Double) in
                            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
                        }
                        let warmUpMax =
                            zip(s.latencies, s.produced).filter { $0.1 - s.inputSpan.first < warmUp }.map(\.0).max()
                            ?? 0
                        out.append(
                            "latency at \(options.latencyRate)/s, produce → summary committed, steady state "
                                + "(\(sorted.count) updates produced after the first \(warmUp) ms of the "
                                + "\(s.inputSpan.last - s.inputSpan.first) ms phase): p50 \(p(0.5)) ms, p99 \(p(0.99)) "
                                + "ms, max \(sorted.last ?? 0) ms; warm-up max \(warmUpMax) ms")
                        // Where in the phase the slowest 1% were produced: a stall shows as a narrow window.
                        let threshold = p(0.99)
                        let slow = steady.filter { $0.0 >= threshold }.map { $0.1 - s.inputSpan.first }
                        if let first = slow.min(), let last = slow.max() {
                            out.append(
                                "  the slowest 1% (≥ \(threshold) ms) were produced \(first)–\(last) ms into "
                                    + "the phase")
                        }
                        let one = s.stageOneLatencies.sorted()
                        out.append(
                            "  of which input produced → appended to the sequenced log: p50 "
                                + "\(one[one.count / 2]) ms, p99 \(one[min(one.count - 1, one.count * 99 / 100)]) ms")
                        out.append(s.phases.summary())
                        if let steal = CPUSteal.percent(since: s.stealAtPhaseStart) { out.append("  \(steal)") }
                        out.append("done")
                        s.latencies.removeAll()
                        s.throughputDone = false
                        s.aggregated = Int.min / 2  // report once
                    }
                    return out
                }
                for m in messages { done.continuation.yield(m) }
            }
        }
        var logger = Logger(label: "bench.worker", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel =
            ProcessInfo.processInfo.environment["KHUYENCONG_BENCH_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .error
        var settings = try options.settings(brokers: brokers)
        settings.batchObserver = observer(false)
        let worker = Worker(settings: settings, logger: logger)
        let task = Task { try await worker.run() }
        var latencyTask: Task<Void, any Error>?
        emit("started")
        let progress = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(5))
                let (aggregated, started) = stats.state.withLock { ($0.aggregated, $0.firstBatch != nil) }
                emit("progress: \(aggregated) aggregated, input seen: \(started)")
            }
        }
        defer { progress.cancel() }
        let deadline = Task {
            try await Task.sleep(for: .seconds(600))
            done.continuation.yield(
                "error: timed out (aggregated \(stats.state.withLock { $0.aggregated }) "
                    + "updates; records lost in the mock's 5 MiB window?)")
        }
        for await line in done.stream {
            emit(line)
            if line.hasPrefix("throughput ") {
                // The throughput worker leaves; the latency worker joins its own group and topics.
                task.cancel()
                _ = try? await task.value
                var latencySettings = try options.settings(brokers: brokers, latency: true)
                latencySettings.batchObserver = observer(true)
                let latencyWorker = Worker(settings: latencySettings, logger: logger)
                latencyTask = Task { try await latencyWorker.run() }
                let joined = ContinuousClock.now + .seconds(120)
                while !latencyWorker.isReady && ContinuousClock.now < joined {
                    try await Task.sleep(for: .milliseconds(50))
                }
                emit(
                    latencyWorker.isReady
                        ? "latency worker ready" : "error: the latency worker did not join within 120 s")
                if !latencyWorker.isReady { break }
            }
            if line == "done" || line.hasPrefix("error") { break }
        }
        deadline.cancel()
        task.cancel()
        latencyTask?.cancel()
        _ = try? await task.value
        _ = try? await latencyTask?.value
        emit(String(format: "peak RSS of the worker process: %.1f MiB", Double(peakRSSKiB()) / 1024))
    }
}

/// Batch phase durations over a bench phase.
private struct PhaseTotals {
    var batches = 0
    var samples: [[Duration]] = []

    mutating func add(_ timings: BatchTimings) {
        let phases = timings.phases.map(\.duration)
        if samples.isEmpty { samples = phases.map { _ in [] } }
        for (i, d) in phases.enumerated() { samples[i].append(d) }
        batches += 1
    }

    /// Mean and p99 milliseconds per batch of each phase.
    func summary() -> String {
        let names = BatchTimings().phases.map(\.name)
        let ms = { (d: Duration) in Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
        let parts = zip(names, samples).map { name, values -> String in
            let sorted = values.map(ms).sorted()
            let mean = sorted.reduce(0, +) / Double(max(1, sorted.count))
            let p99 = sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
            return name + String(format: " %.2f (p99 %.1f)", mean, p99)
        }
        return "  \(batches) batches, ms per batch, mean (p99): " + parts.joined(separator: ", ")
    }
}

/// The librdkafka consumer settings the worker uses, shared with the C baseline.
enum WorkerSessionTuning {
    static var consumer: [String: String] {
        var p = WorkerSettings.consumerTuning
        p["enable.auto.commit"] = "false"
        p["auto.offset.reset"] = "earliest"
        return p
    }
}

/// The bench re-running itself as the worker child; its stdout lines arrive on `lines`.
private final class WorkerChild: Sendable {
    let process: Process
    let lines: AsyncStream<String>

    private init(process: Process, lines: AsyncStream<String>) {
        self.process = process
        self.lines = lines
    }

    static func start(brokers: String, options: BenchPipeline) throws -> WorkerChild {
        let args = CommandLine.arguments
        // Same subcommand path ("bench pipeline"), then the child's options.
        let path = args.firstIndex { $0 == "pipeline" }.map { Array(args[1...$0]) } ?? ["bench", "pipeline"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments =
            path + [
                "--worker-brokers", brokers, "--updates", String(options.updates), "--partitions",
                String(options.partitions),
                "--latency-rate", String(options.latencyRate), "--latency-seconds", String(options.latencySeconds),
                "--guarantee", options.guarantee, "--batch-max-messages", String(options.batchMaxMessages),
                "--batch-max-ms", String(options.batchMaxMs),
            ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        BenchChild.readLines(pipe.fileHandleForReading) {
            continuation.yield($0)
        } end: {
            continuation.finish()
        }
        return WorkerChild(process: process, lines: lines)
    }

    func wait() { process.waitUntilExit() }
}

/// User + system CPU time of this process, all threads.
private func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(
        usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// The machine's CPU time stolen by the hypervisor (`/proc/stat`): on a shared virtual machine
/// it explains part of the spread between runs of the same build (slow runs were measured with
/// little steal too, so a low figure does not make a run comparable).
private enum CPUSteal {
    typealias Ticks = (steal: UInt64, total: UInt64)

    static func now() -> Ticks? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        // user nice system idle iowait irq softirq steal (guest time is already in user)
        let fields = line.split(separator: " ").dropFirst().prefix(8).compactMap { UInt64($0) }
        guard fields.count == 8 else { return nil }
        return (fields[7], fields.reduce(0, +))
    }

    static func percent(since start: Ticks?) -> String? {
        guard let start, let end = now(), end.total > start.total else { return nil }
        let share = Double(end.steal - start.steal) / Double(end.total - start.total) * 100
        return String(format: "CPU time stolen by the hypervisor in this phase (whole machine): %.0f %%", share)
    }
}

/// VmHWM of this process.
private func peakRSSKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
    return 0
}
