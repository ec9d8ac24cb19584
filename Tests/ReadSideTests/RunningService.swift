import Foundation
import Kafka
import Logging
import Pipeline
import Prometheus
import ReadSide
import Service
import ServiceLifecycle
import Synchronization
import Domain
import TestSupport

/// Topic names of their own on the shared embedded broker, created up front.
struct TestTopics {
    let id: String
    let bootstrap: String

    init(_ name: String) throws {
        let broker = try Shared.broker.get()
        id = Shared.unique(name)
        bootstrap = broker.bootstrapServers
        let settings = WorkerSettings(
            brokers: bootstrap, groupID: "g-\(id)", inputTopic: "in-\(id)",
            summariesTopic: "sum-\(id)", alertsTopic: "alerts-\(id)",
            rejectedTopic: "rej-\(id)", registries: Seed.registries, rules: Seed.rules)
        try ensureTopics(TopicPlan(settings, inputPartitions: 3, outputPartitions: 3), on: broker)
    }

    var summaries: String { "sum-\(id)" }
    var alerts: String { "alerts-\(id)" }
    var input: String { "in-\(id)" }

    /// `khuyencong run` options for worker `n` of this deployment.
    func runArguments(worker n: Int) -> [String] {
        [
            "--brokers", bootstrap, "--http", "127.0.0.1:0", "--group-id", "g-\(id)", "--input-topic", input,
            "--summaries-topic", summaries, "--alerts-topic", alerts, "--rejected-topic", "rej-\(id)",
            "--transactional-id", "tx-\(id)-\(n)", "--batch-max-ms", "5",
            "--kafka", "session.timeout.ms=6000", "--kafka", "heartbeat.interval.ms=500",
        ]
    }

    func readSideSettings() -> ReadSideSettings {
        ReadSideSettings(
            brokers: bootstrap, summariesTopic: summaries, alertsTopic: alerts,
            kafkaProperties: ["fetch.wait.max.ms": "10"], retryDelay: .milliseconds(200))
    }

    /// Produces every line of the bundled sample stream (`make run`'s) to the input topic.
    func produceSampleStream() async throws {
        guard let path = SampleStream.bundledPath else {
            throw Timeout(description: "the bundled sample stream is missing")
        }
        var config = KafkaProducerConfiguration(bootstrapServers: bootstrap)
        config.lingerMs = 1
        let producer = try KafkaProducer(configuration: config, logger: quietLogger)
        _ = try await ProduceJob.run(
            path: path,
            send: { key, value in
                try await producer.send(topic: input, key: key, value: value)
            }, progress: { _, _ in })
        try await producer.flush()
        await producer.shutdown()
    }

    /// Produces `updates` to the input topic, keyed by province, and waits for delivery.
    func produce(_ updates: [ExecutionUpdate]) async throws {
        var config = KafkaProducerConfiguration(bootstrapServers: bootstrap)
        config.lingerMs = 1
        let producer = try KafkaProducer(configuration: config, logger: quietLogger)
        for u in updates {
            try await producer.send(topic: input, key: Array(u.province.utf8), value: u.canonicalJSON())
        }
        try await producer.flush()
        await producer.shutdown()
    }
}

/// `khuyencong run` in-process (the real ServiceRunner: worker, read side, HTTP) until `stop()`.
final class RunningService: Sendable {
    final class State: Sendable {
        let started = Mutex<ServiceRunner.Started?>(nil)
        let stopping = Atomic<Bool>(false)
    }

    /// Keeps the group running until `stop()`; its return shuts the group down gracefully.
    struct Holder: Service {
        let state: State

        func run() async throws {
            try await eventually("stop requested", within: .seconds(600)) {
                state.stopping.load(ordering: .acquiring) || Task.isCancelled
            }
        }
    }

    private let state = State()
    private let task: Task<Void, any Error>
    let metrics = PrometheusCollectorRegistry()

    init(arguments: [String]) throws {
        let configuration = try RunConfiguration.resolve(flags: try RunFlags.parse(arguments), environment: [:])
        let runner = ServiceRunner(configuration: configuration, logger: quietLogger, metrics: metrics)
        let state = state
        task = Task {
            try await runner.run(printBootstrap: { _ in }) { started in
                state.started.withLock { $0 = started }
                return [Holder(state: state)]
            }
        }
    }

    var started: ServiceRunner.Started? { state.started.withLock { $0 } }

    /// The bound HTTP port, once listening (bounded wait).
    func port() async throws -> Int {
        var url: String?
        try await eventually("HTTP listening", within: .seconds(30)) {
            url = started?.dashboard.current
            return url != nil
        }
        guard let url, let port = Int(url.split(separator: ":").last?.filter(\.isNumber) ?? "") else {
            throw Timeout(description: "no port in \(url ?? "nil")")
        }
        return port
    }

    func stop() async throws {
        state.stopping.store(true, ordering: .releasing)
        try await task.value
    }
}
