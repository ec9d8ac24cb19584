import ArgumentParser
import Domain
import Foundation
import Kafka
import KafkaBaseline
import Logging
import Pipeline
import Synchronization

/// `khuyencong bench worker`: the real worker as it runs in production (`khuyencong run
/// --brokers …`, a child process) against a broker in another process (`khuyencong broker`),
/// side by side with a minimal C worker over the same librdkafka, on the same preloaded input,
/// in interleaved rounds.
struct BenchWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Throughput of `khuyencong run` (exactly-once and at-least-once) against a minimal C worker.",
        discussion: """
            Each run has its own consumer group (and transactional id) and reads the same preloaded input from \
            the beginning. Both start as the worker does (committed offsets looked up before the assignment, the \
            same fetch restart). Its window runs from the first applied assignment (in the C worker's rebalance \
            callback; the worker's "rebalance: assigned" line, so it runs with --log-level debug) until \
            the group's committed offsets, queried \
            from this process without joining the group, reach every input partition's end, and for the \
            worker also the end of its sequenced partition (stage 2 has aggregated everything).
            """
    )

    @Option(help: "Contract-valid updates preloaded once and read by every run.") var updates = 500_000
    @Option(help: "Input partitions (the embedded broker keeps only ~5 MiB per partition).") var partitions: Int32 = 32
    @Option(help: "Rounds; each runs C, worker exactly-once, worker at-least-once in turn.") var rounds = 3
    @Option(help: "Directory for the broker's and the workers' logs.") var logDirectory = "/tmp/khuyencong-bench-worker"
    @Option(help: "Longest run, in seconds, before the benchmark fails.") var runTimeout = 300
    @Option(help: "The worker's --log-level: debug, or trace for each batch's phases in its log.") var workerLogLevel =
        "debug"
    @Option(help: "Print the worker's resident set size every this many seconds of a run (0: never).")
    var rssEvery = 0

    static let inputTopic = "bench.execution-updates"
    /// The worker's first log line after its consumer applied an assignment (debug level; the
    /// "partitions assigned" info line comes after the state restore, while fetching has begun).
    static let assignmentLine = "rebalance: assigned"

    func validate() throws {
        guard ["debug", "trace"].contains(workerLogLevel) else {
            throw ValidationError("--worker-log-level must be debug or trace: the window starts at a debug line")
        }
    }

    func run() async throws {
        let logger = BenchChild.clientLogger
        let (broker, bootstrap) = try await BenchChild.broker(
            topic: Self.inputTopic, partitions: partitions, logDirectory: logDirectory)
        do {
            try await measure(bootstrap: bootstrap, brokerPID: broker.pid, logger: logger)
        } catch {
            await broker.stop()
            throw error
        }
        let brokerRSS = ProcStatus.peakRSSKiB(pid: broker.pid) ?? 0
        await broker.stop()
        emit(String(format: "  broker process peak RSS: %.0f MiB", Double(brokerRSS) / 1024))
    }

    private func measure(bootstrap: String, brokerPID: Int32, logger: Logger) async throws {
        let registries = try Registries.load()
        emit(
            "Worker bench: \(updates) updates preloaded into \(partitions) partitions of \(Self.inputTopic), "
                + "broker `khuyencong broker` (pid \(brokerPID)) at \(bootstrap); logs in \(logDirectory)")
        // The input is dropped once written: the C worker runs in this process.
        let (expected, ends) = try await { () async throws -> (ExpectedTotals, [Int32: Int64]) in
            let input = SyntheticUpdates.updates(count: updates, registries: registries, seed: 2026)
            return (
                ExpectedTotals(input, registries: registries),
                try await preload(input, bootstrap: bootstrap, logger: logger)
            )
        }()
        let watch = OffsetWatch(bootstrap: bootstrap, inputEnds: ends, logger: logger, timeout: .seconds(runTimeout))
        var results: [Series: [RunResult]] = [:]
        for round in 1...max(1, rounds) {
            for series in Series.allCases {
                let result: RunResult
                switch series {
                case .c:
                    result = try await runC(
                        round: round, bootstrap: bootstrap, registries: registries, expected: expected,
                        watch: watch)
                case .exactlyOnce, .atLeastOnce:
                    result = try await runWorker(series, round: round, bootstrap: bootstrap, watch: watch)
                }
                results[series, default: []].append(result)
                emit(
                    "  round \(round) \(series.label): " + result.describe(updates: updates)
                        + (series == .c
                            ? ""
                            : String(format: " = %.2f× C", result.rate(updates) / results[.c]!.last!.rate(updates))))
            }
        }
        summarize(results)
    }

    /// Writes the input once (lz4-compressed batches, as `bench pipeline`) and checks that the
    /// broker kept all of it. Returns each partition's end offset.
    private func preload(_ input: [ExecutionUpdate], bootstrap: String, logger: Logger) async throws -> [Int32: Int64] {
        var clock = ContinuousClock.now
        // As SyntheticUpdates.generate: keyed by province, canonical JSON.
        var messages = input.map { WireMessageBytes(key: Array($0.province.utf8), payload: $0.canonicalJSON()) }
        let bytes = messages.reduce(0) { $0 + $1.payload.count }
        emit(
            String(
                format: "  generated %d updates (%.0f B average) in %.1f s", messages.count,
                Double(bytes) / Double(max(1, messages.count)), seconds(since: clock)))
        var config = KafkaProducerConfiguration(bootstrapServers: bootstrap)
        config.properties = BenchPipeline.producerTuning.merging(WorkerSettings.clientTuning) { $1 }
            .merging(WorkerSettings.embeddedBrokerTuning) { $1 }
        let producer = try KafkaProducer(configuration: config, logger: logger)
        clock = .now
        for m in messages { try await send(producer, m) }
        try await producer.flush(timeout: .seconds(300))
        await producer.shutdown()
        messages = []
        emit(String(format: "  preloaded in %.1f s (producer %@)", seconds(since: clock), describe(config.properties)))

        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(bootstrapServers: bootstrap, groupID: "bench-preload"),
            logger: logger)
        var ends: [Int32: Int64] = [:]
        var dropped: [String] = []
        for p in 0..<partitions {
            let marks = try await consumer.watermarks(TopicPartition(Self.inputTopic, p))
            if marks.low != 0 { dropped.append("partition \(p) starts at \(marks.low)") }
            ends[p] = marks.high
        }
        await consumer.close()
        let total = ends.values.reduce(0, +)
        guard dropped.isEmpty, total == Int64(updates) else {
            throw BenchFailure(
                "the broker did not keep the whole input (end offsets add up to \(total) of \(updates); "
                    + "dropped from the head: " + (dropped.isEmpty ? "none" : dropped.joined(separator: ", "))
                    + "): raise --partitions")
        }
        let used = ends.values.filter { $0 > 0 }.count
        emit(
            "  the broker kept all \(total) records (log start 0 in every partition; \(used) of \(partitions) "
                + "partitions used)")
        return ends
    }

    private func send(_ producer: KafkaProducer, _ m: WireMessageBytes) async throws {
        do {
            try producer.trySend(topic: Self.inputTopic, key: m.key, value: m.payload)
        } catch  where error.code == .queueFull {
            try await producer.send(topic: Self.inputTopic, key: m.key, value: m.payload)
        }
    }

    private func runC(
        round: Int, bootstrap: String, registries: Registries, expected: ExpectedTotals,
        watch: OffsetWatch
    ) async throws -> RunResult {
        let group = "bench-worker-c-r\(round)"
        var consumer = WorkerSessionTuning.consumer.merging(WorkerSettings.embeddedBrokerTuning) { $1 }
        consumer["bootstrap.servers"] = bootstrap
        consumer["group.id"] = group
        var producer = WorkerSettings.producerTuning.merging(WorkerSettings.embeddedBrokerTuning) { $1 }
        producer["bootstrap.servers"] = bootstrap
        let regions = RegionID.allCases
        let provinces = registries.r2004.units.compactMap { unit in
            Int(unit.code).map { (code: $0, region: regions.firstIndex(of: unit.region)!) }
        }
        let worker = try KafkaCWorker(
            consumerProperties: consumer, producerProperties: producer, inputTopic: Self.inputTopic,
            outputTopic: "bench.c.regional-summaries", provinces: provinces,
            regionNames: regions.map(\.rawValue))
        let window: (start: Int64, end: Int64)
        do {
            window = try await watch.window(
                group: group, sequenced: nil, started: { worker.assignedAtNanos }, alive: { nil })
        } catch {
            _ = try? await worker.stop()
            throw error
        }
        let delivered = try await worker.stop()
        let counts = worker.counts
        guard counts.consumed == updates, counts.rejected == 0, delivered == updates else {
            throw BenchFailure(
                "the C worker consumed \(counts.consumed), rejected \(counts.rejected) and delivered "
                    + "\(delivered) summaries of \(updates) updates")
        }
        if let wrong = expected.firstMismatch(worker) {
            throw BenchFailure("the C worker's totals are wrong: \(wrong)")
        }
        return RunResult(
            nanoseconds: window.end - window.start, peakRSSKiB: nil, cores: nil,
            note: "\(delivered) summaries, \(counts.commits) commits")
    }

    private func runWorker(_ series: Series, round: Int, bootstrap: String, watch: OffsetWatch) async throws
        -> RunResult
    {
        let group = "bench-worker-\(series.rawValue)-r\(round)"
        let guarantee = series == .exactlyOnce ? DeliveryGuarantee.exactlyOnce : .atLeastOnce
        let child = try BenchChild(
            arguments: BenchChild.workerArguments(
                bootstrap: bootstrap, group: group, inputTopic: Self.inputTopic, outputPrefix: "bench.worker",
                guarantee: guarantee.rawValue, logLevel: workerLogLevel),
            logPath: "\(logDirectory)/\(group).log", marker: Self.assignmentLine)
        let pid = child.pid
        let cpuAtStart = Mutex<Double?>(nil)
        let rssPrinter = rssEvery > 0 ? Self.printRSS(of: pid, every: .seconds(rssEvery), label: group) : nil
        defer { rssPrinter?.cancel() }
        let window: (start: Int64, end: Int64)
        do {
            window = try await watch.window(
                group: group, sequenced: (TopicPartition(group + ".sequenced-updates", 0), guarantee),
                started: {
                    guard let t = child.markerAtNanos else { return nil }
                    cpuAtStart.withLock { if $0 == nil { $0 = ProcStatus.cpuSeconds(pid: pid) } }
                    return t
                },
                alive: {
                    child.isRunning
                        ? nil
                        : "the worker exited (status \(child.process.terminationStatus)); its log:\n" + child.logTail()
                })
        } catch {
            await child.stop()
            throw error
        }
        let rss = ProcStatus.peakRSSKiB(pid: pid)
        let cpu = ProcStatus.cpuSeconds(pid: pid).flatMap { end in cpuAtStart.withLock { $0 }.map { end - $0 } }
        let status = await child.stop()
        let seconds = Double(window.end - window.start) / 1e9
        return RunResult(
            nanoseconds: window.end - window.start, peakRSSKiB: rss, cores: cpu.map { $0 / seconds },
            note: "exit status \(status)")
    }

    /// Memory over a long run: flat, or growing with what the worker has seen.
    private static func printRSS(of pid: Int32, every interval: Duration, label: String) -> Task<Void, Never> {
        Task {
            let started = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let rss = ProcStatus.rssKiB(pid: pid), let peak = ProcStatus.peakRSSKiB(pid: pid) else { return }
                let elapsed = Double((ContinuousClock.now - started).components.seconds)
                emit(
                    String(format: "  %@ at %.0f s: RSS %d MiB (peak %d MiB)", label, elapsed, rss / 1024, peak / 1024))
            }
        }
    }

    private func summarize(_ results: [Series: [RunResult]]) {
        let rates = results.mapValues { $0.map { $0.rate(updates) } }
        let c = rates[.c] ?? []
        emit("  updates/s over \(c.count) interleaved rounds (median, best; every round):")
        for series in Series.allCases {
            let r = rates[series] ?? []
            let name = series.label.padding(toLength: 22, withPad: " ", startingAt: 0)
            var line = String(
                format: "  %@ median %7.0f, best %7.0f; rounds %@", name, median(r), r.max() ?? 0,
                r.map { String(format: "%.0f", $0) }.joined(separator: ", "))
            if series != .c {
                let perRound = zip(r, c).map { String(format: "%.2f", $0 / $1) }.joined(separator: ", ")
                line += String(
                    format: "\n  %@ = %.2f× C (medians), %.2f× (bests); per round %@",
                    String(repeating: " ", count: 22),
                    median(r) / median(c), (r.max() ?? 0) / (c.max() ?? 1), perRound)
            }
            emit(line)
        }
        for series in [Series.exactlyOnce, .atLeastOnce] {
            let rss = (results[series] ?? []).compactMap(\.peakRSSKiB).map { String(format: "%.0f", Double($0) / 1024) }
            emit("  \(series.label) peak RSS per round (MiB): " + rss.joined(separator: ", "))
        }
    }

    /// The middle value; with an even count, the mean of the two middle ones.
    private func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return 0 }
        let sorted = xs.sorted(), mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}

/// The regional totals of the input's latest figures per province/year/source (the last update
/// of each: a key's updates stay in order in its partition), to check the C worker's.
struct ExpectedTotals {
    var totals: [Key: (provinces: Int, plan: Int64, executed: Int64)] = [:]

    struct Key: Hashable {
        var region: Int, year: Int, source: Int
    }

    init(_ input: [ExecutionUpdate], registries: Registries) {
        let regions = RegionID.allCases
        var region: [String: Int] = [:]
        for unit in registries.r2004.units { region[unit.code] = regions.firstIndex(of: unit.region) }
        var latest: [String: (key: Key, plan: Int64, executed: Int64)] = [:]
        for u in input {
            let key = Key(region: region[u.province] ?? -1, year: u.fiscalYear, source: u.source == .kcqg ? 0 : 1)
            latest["\(u.province)/\(u.fiscalYear)/\(u.source.rawValue)"] = (key, u.planVND, u.executedVND)
        }
        for figures in latest.values {
            let t = totals[figures.key] ?? (0, 0, 0)
            totals[figures.key] = (t.provinces + 1, t.plan + figures.plan, t.executed + figures.executed)
        }
    }

    /// The first region/year/source whose C totals differ, described; nil when all agree.
    func firstMismatch(_ worker: KafkaCWorker) -> String? {
        for (key, want) in totals {
            guard let got = worker.totals(region: key.region, fiscalYear: key.year, source: key.source) else {
                return "no totals for \(key)"
            }
            if got != want { return "\(key): expected \(want), got \(got)" }
        }
        return nil
    }
}

/// The three series of a round, in the order they run.
enum Series: String, CaseIterable {
    case c
    case exactlyOnce = "eo"
    case atLeastOnce = "alo"

    var label: String {
        switch self {
        case .c: "C worker"
        case .exactlyOnce: "worker exactly-once"
        case .atLeastOnce: "worker at-least-once"
        }
    }
}

/// One run's window and what the worker process used in it.
struct RunResult {
    var nanoseconds: Int64
    var peakRSSKiB: Int?
    var cores: Double?
    var note: String

    func rate(_ updates: Int) -> Double { Double(updates) / (Double(nanoseconds) / 1e9) }

    func describe(updates: Int) -> String {
        var parts = [String(format: "%.0f updates/s (%.3f s)", rate(updates), Double(nanoseconds) / 1e9)]
        if let peakRSSKiB { parts.append(String(format: "peak RSS %.0f MiB", Double(peakRSSKiB) / 1024)) }
        if let cores { parts.append(String(format: "CPU %.2f cores", cores)) }
        parts.append(note)
        return parts.joined(separator: ", ")
    }
}
