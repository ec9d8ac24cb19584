import ArgumentParser
import Domain
import Foundation
import Kafka
import Logging
import Pipeline

/// `khuyencong bench soak`: the worker's memory over a long stream. `khuyencong run` (a child
/// process) reads input written in waves to a broker in another process; after each wave is
/// committed the bench prints the worker's RSS. The embedded broker keeps only ~5 MiB per
/// partition and the input is keyed by province (63 keys), so a stream much longer than ~2
/// million updates cannot be preloaded: each wave is written only once the worker has
/// committed the previous one.
struct BenchSoak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "The worker's resident memory over a long stream, written in waves (default 10,000,000 updates).",
        discussion: """
            Each wave is written, then the bench waits until the worker's group has committed every input \
            offset, and prints the wave's rate and the worker's RSS (VmRSS) and peak (VmHWM). Memory is flat \
            when the RSS after the later waves stays where the first waves left it.
            """
    )

    @Option(help: "Updates in all.") var updates = 10_000_000
    @Option(help: "Updates per wave.") var wave = 500_000
    @Option(help: "Input partitions.") var partitions: Int32 = 64
    @Option(help: "exactly-once or at-least-once.") var guarantee = "exactly-once"
    @Option(help: "Directory for the broker's and the worker's logs.") var logDirectory = "/tmp/khuyencong-bench-soak"
    @Option(help: "Longest wait, in seconds, for one wave to be committed.") var waveTimeout = 300

    static let inputTopic = "bench.soak.execution-updates"

    func validate() throws {
        guard updates > 0, wave > 0 else { throw ValidationError("--updates and --wave must be positive") }
        guard DeliveryGuarantee(rawValue: guarantee) != nil else {
            throw ValidationError("--guarantee must be exactly-once or at-least-once")
        }
    }

    func run() async throws {
        let logger = BenchChild.clientLogger
        let (broker, bootstrap) = try await BenchChild.broker(
            topic: Self.inputTopic, partitions: partitions, logDirectory: logDirectory)
        let group = "bench-soak-\(guarantee)"
        let worker = try BenchChild(
            arguments: BenchChild.workerArguments(
                bootstrap: bootstrap, group: group, inputTopic: Self.inputTopic, outputPrefix: "bench.soak",
                guarantee: guarantee, logLevel: "info"),
            logPath: "\(logDirectory)/\(group).log")
        do {
            try await soak(bootstrap: bootstrap, worker: worker, group: group, logger: logger)
        } catch {
            await worker.stop()
            await broker.stop()
            throw error
        }
        await worker.stop()
        await broker.stop()
    }

    private func soak(bootstrap: String, worker: BenchChild, group: String, logger: Logger) async throws {
        let registries = try Registries.load()
        let clock = ContinuousClock.now
        let input = SyntheticUpdates.updates(count: updates, registries: registries, seed: 2026)
        emit(
            String(
                format: "Soak: %d updates in waves of %d into %d partitions, worker pid %d (%@); generated in %.1f s",
                updates, wave, partitions, worker.pid, guarantee, seconds(since: clock)))
        var config = KafkaProducerConfiguration(bootstrapServers: bootstrap)
        config.properties = BenchPipeline.producerTuning.merging(WorkerSettings.clientTuning) { $1 }
            .merging(WorkerSettings.embeddedBrokerTuning) { $1 }
        let producer = try KafkaProducer(configuration: config, logger: logger)
        var watcherConfig = KafkaConsumerConfiguration(bootstrapServers: bootstrap, groupID: group)
        watcherConfig.properties = WorkerSettings.clientTuning
        let watcher = try KafkaConsumer(configuration: watcherConfig, logger: logger)  // never joins the group
        do {
            try await waves(input, producer: producer, watcher: watcher, worker: worker)
        } catch {
            await watcher.close()
            await producer.shutdown()
            throw error
        }
        await watcher.close()
        await producer.shutdown()
    }

    private func waves(
        _ input: [ExecutionUpdate], producer: KafkaProducer, watcher: KafkaConsumer, worker: BenchChild
    ) async throws {
        let inputs = (0..<partitions).map { TopicPartition(Self.inputTopic, $0) }
        var rss: [Int] = []
        var sent = 0
        while sent < updates {
            let clock = ContinuousClock.now
            let end = min(updates, sent + wave)
            for u in input[sent..<end] {
                // `send` waits while librdkafka's queue is full.
                try await producer.send(topic: Self.inputTopic, key: Array(u.province.utf8), value: u.canonicalJSON())
            }
            try await producer.flush(timeout: .seconds(300))
            var target: Int64 = 0
            for p in inputs { target += try await watcher.watermarks(p).high }
            try await waitForCommit(target, of: inputs, watcher: watcher, worker: worker, done: end)
            let rate = Double(end - sent) / seconds(since: clock)
            sent = end
            let now = ProcStatus.rssKiB(pid: worker.pid) ?? 0, peak = ProcStatus.peakRSSKiB(pid: worker.pid) ?? 0
            rss.append(now)
            emit(
                String(
                    format: "  %9d updates committed: wave %.0f updates/s, worker RSS %d MiB (peak %d MiB)", end,
                    rate, now / 1024, peak / 1024))
        }
        let half = rss.count / 2
        if half > 0 {
            emit(
                String(
                    format: "  RSS after the waves: first half max %d MiB, second half max %d MiB; peak %d MiB",
                    rss[..<half].max()! / 1024, rss[half...].max()! / 1024,
                    (ProcStatus.peakRSSKiB(pid: worker.pid) ?? 0) / 1024))
        }
    }

    /// Waits until the group's committed input offsets add up to `target`.
    private func waitForCommit(
        _ target: Int64, of inputs: [TopicPartition], watcher: KafkaConsumer, worker: BenchChild, done: Int
    ) async throws {
        let deadline = ContinuousClock.now + .seconds(waveTimeout)
        while true {
            guard worker.isRunning else {
                throw BenchFailure(
                    "the worker exited (status \(worker.process.terminationStatus)); its log:\n" + worker.logTail())
            }
            let committed = try await watcher.committed(inputs).reduce(Int64(0)) { $0 + max(0, $1.offset) }
            if committed >= target { return }
            guard ContinuousClock.now < deadline else {
                throw BenchFailure(
                    "\(committed) of \(target) input offsets committed \(waveTimeout) s after the wave ending at "
                        + "update \(done); the worker's log:\n" + worker.logTail())
            }
            try await Task.sleep(for: .milliseconds(20))  // a bounded poll of the group's offsets
        }
    }
}
