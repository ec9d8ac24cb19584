import Domain
import Foundation
import Kafka
import Logging
@testable import Pipeline
import Synchronization
import Testing
import TestSupport

/// One embedded cluster for the whole test run (the mock's first group join costs ~3 s).
enum Shared {
    static let broker: Result<EmbeddedBroker, KafkaError> = Result { () throws(KafkaError) in
        try EmbeddedBroker(brokers: 3, logger: quietLogger)
    }
    static let counter = Atomic<Int>(0)
    static let registries: Result<Registries, RegistryFileError> = Result { () throws(RegistryFileError) in
        try Registries.load()
    }
    static let rules: Result<AlertRules, AlertRulesError> = Result { () throws(AlertRulesError) in
        try AlertRules.bundled()
    }
}

var quietLogger: Logger {
    var logger = Logger(label: "pipeline.test")
    logger.logLevel = ProcessInfo.processInfo.environment["PIPELINE_TEST_LOG"] == nil ? .critical : .info
    return logger
}

/// A pipeline deployment on the shared embedded broker with its own topic names and group.
struct Deployment {
    let broker: EmbeddedBroker
    private(set) var base: WorkerSettings
    let inputPartitions: Int32

    /// `inputLayout` per-province: one input topic per unit, all created except those of `uncreatedUnits`.
    init(
        _ name: String, inputPartitions: Int32 = 4, guarantee: DeliveryGuarantee = .exactlyOnce,
        batchMaxMessages: Int = 10_000,
        broker own: EmbeddedBroker? = nil, inputLayout: InputTopicLayout = .shared,
        uncreatedUnits: Set<String> = [], kafkaProperties: [String: String] = [:]
    ) throws {
        broker = try own ?? Shared.broker.get()
        let id = "\(name)-\(Shared.counter.add(1, ordering: .relaxed).newValue)"
        base = WorkerSettings(
            brokers: broker.bootstrapServers, groupID: "g-\(id)", inputTopic: "in-\(id)", summariesTopic: "sum-\(id)",
            alertsTopic: "alerts-\(id)", rejectedTopic: "rej-\(id)", guarantee: guarantee, transactionalID: "tx-\(id)",
            batchMaxMessages: batchMaxMessages, batchMaxMilliseconds: 20,
            kafkaProperties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]
                .merging(kafkaProperties) { $1 },
            registries: try Shared.registries.get(), rules: try Shared.rules.get())
        base.inputLayout = inputLayout
        self.inputPartitions = inputPartitions
        var plan = TopicPlan(base, inputPartitions: inputPartitions, outputPartitions: 3)
        plan.topics.removeAll { [base] in base.inputTopics.unit(of: $0.name).map(uncreatedUnits.contains) ?? false }
        try ensureTopics(plan, on: broker)
    }

    /// Settings for worker number `n` (its own transactional id).
    func settings(worker n: Int, crash: CrashPlan? = nil) -> WorkerSettings {
        var s = base
        s.transactionalID = base.transactionalID + "-\(n)"
        s.crashPlan = crash
        return s
    }

    /// Runs `body` with a producer to the shared broker, then waits for every delivery.
    func producing<T>(_ body: (KafkaProducer) async throws -> T) async throws -> T {
        var config = KafkaProducerConfiguration(bootstrapServers: broker.bootstrapServers)
        config.lingerMs = 1
        let producer = try KafkaProducer(configuration: config, logger: quietLogger)
        let result = try await body(producer)
        try await producer.flush()
        await producer.shutdown()
        return result
    }

    /// Produces `messages` (key, value) to the input topic in order, keyed partitioning.
    func produce(_ messages: [(key: String?, value: [UInt8]?)]) async throws {
        try await producing { producer in
            for m in messages {
                try await producer.send(topic: base.inputTopic, key: m.key.map { Array($0.utf8) }, value: m.value)
            }
        }
    }

    /// Produces `messages` (unit, key, value), each to its unit's input topic (per-province layout).
    func produce(toUnitTopics messages: [(unit: String, key: String?, value: [UInt8]?)]) async throws {
        try await producing { producer in
            for m in messages {
                let topic = base.inputTopics.topic(ofUnit: m.unit)
                try await producer.send(topic: topic, key: m.key.map { Array($0.utf8) }, value: m.value)
            }
        }
    }

    /// Produces one record to each input partition (`value(partition)`, no key); returns the values.
    func produceToEveryPartition(_ value: (Int32) -> [UInt8]) async throws -> [[UInt8]] {
        let values = (0..<inputPartitions).map(value)
        try await producing { producer in
            for (p, v) in values.enumerated() {
                try await producer.send(topic: base.inputTopic, partition: Int32(p), key: nil, value: v)
            }
        }
        return values
    }

    /// Every record of `topic` (all partitions, from the beginning to the current end).
    func read(_ topic: String, partitions: Int32 = 3) async throws -> [KafkaMessage] {
        var config = KafkaConsumerConfiguration(bootstrapServers: broker.bootstrapServers, groupID: "reader-\(topic)")
        config.isolationLevel = .readUncommitted
        config.properties = ["enable.partition.eof": "true", "fetch.wait.max.ms": "10"]
        var logger = quietLogger
        logger.logLevel = .critical
        let consumer = try KafkaConsumer(configuration: config, logger: logger)
        try consumer.assign((0..<partitions).map { TopicPartitionOffset(topic, $0, offset: -2) })
        var messages: [KafkaMessage] = []
        var ended = 0
        let deadline = ContinuousClock.now + .seconds(20)
        while ended < partitions {
            guard ContinuousClock.now < deadline else { throw Timeout(description: "reading \(topic)") }
            let batch = try await consumer.poll(maxMessages: 10_000, timeout: .milliseconds(100))
            messages += batch.map { $0.owned() }
            // Each partition reports its end once (nothing is written while we read).
            ended += batch.errors.filter { $0.code == ChangelogReader.partitionEOF }.count
        }
        await consumer.close()
        return messages
    }

    /// The latest record per key of the summaries topic, parsed.
    func latestSummaries() async throws -> [String: [String: Any]] {
        try await latest(base.summariesTopic)
    }

    func latest(_ topic: String) async throws -> [String: [String: Any]] {
        var result: [String: (revision: Int, json: [String: Any])] = [:]
        for m in try await read(topic) {
            guard let key = m.key.map({ String(decoding: $0, as: UTF8.self) }), let json = parse(m.value) else {
                continue
            }
            let revision = (json["revision"] as? Int) ?? 0
            if let held = result[key], held.revision > revision { continue }
            result[key] = (revision, json)
        }
        return result.mapValues(\.json)
    }
}

func parse(_ bytes: [UInt8]?) -> [String: Any]? {
    guard let bytes else { return nil }
    return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
}

/// A running worker; `stop()` shuts it down gracefully and returns how `run` ended.
final class RunningWorker: Sendable {
    let worker: Worker
    private let task: Task<Result<Void, any Error>, Never>
    private let finished: Flag

    init(_ settings: WorkerSettings, logger: Logger = quietLogger) {
        let worker = Worker(settings: settings, logger: logger)
        let finished = Flag()
        self.worker = worker
        self.finished = finished
        task = Task {
            defer { finished.set() }
            do { try await worker.run(); return .success(()) } catch { return .failure(error) }
        }
    }

    var hasEnded: Bool { finished.isSet }

    /// A worker that does not stop within `limit` fails the test (`.failure(Timeout)`) instead
    /// of hanging the run.
    func stop(within limit: Duration = .seconds(60)) async -> Result<Void, any Error> {
        task.cancel()
        do { try await eventually("worker stop", within: limit) { self.hasEnded } } catch { return .failure(error) }
        return await task.value
    }

    /// How `run` ended, for a worker expected to end by itself (bounded wait).
    func ended(within limit: Duration = .seconds(30)) async throws -> Result<Void, any Error> {
        try await eventually("worker end", within: limit) { self.hasEnded }
        return await task.value
    }
}

final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

/// Keeps the messages logged at `error` or above, for tests of what the worker reports.
final class ErrorLog: Sendable {
    private let messages = Mutex<[String]>([])
    var all: [String] { messages.withLock { $0 } }

    var logger: Logger {
        Logger(label: "pipeline.test.errors") { _ in Handler(log: self) }
    }

    struct Handler: LogHandler {
        let log: ErrorLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .error

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                separator: " ")
            log.messages.withLock { $0.append("\(event.message) \(fields)") }
        }
    }
}
