import Domain
import Foundation
import Hummingbird
import Kafka
import Logging
import Pipeline
import Prometheus
import ReadSide
import ServiceLifecycle

/// `khuyencong run`: the worker and the HTTP server under one ServiceGroup, on the configured
/// cluster or on an embedded broker started in-process.
public struct ServiceRunner: Sendable {
    public let configuration: RunConfiguration
    public let logger: Logger
    public let metrics: PrometheusCollectorRegistry

    public init(configuration: RunConfiguration, logger: Logger, metrics: PrometheusCollectorRegistry) {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
    }

    /// What a started service tells `onStarted` (and the demo).
    public struct Started: Sendable {
        public let bootstrap: String
        public let embedded: Bool
        public let worker: Worker
        public let settings: WorkerSettings
        /// What the HTTP endpoints serve, read from the output topics.
        public let readModel: ReadModel
        /// The dashboard's address once the HTTP server listens (nil before).
        public let dashboard: DashboardAddress
    }

    /// The worker's settings; registry and rules files are loaded here, so a bad file is a
    /// configuration error.
    public func workerSettings(brokers: String) throws(ConfigurationError) -> WorkerSettings {
        let c = configuration
        let registries: Registries
        do {
            registries = try Registries.load(file2004: c.registry2004File, file2025: c.registry2025File)
        } catch {
            throw ConfigurationError("province registry: \(error) (check --registry-2004/--registry-2025)")
        }
        let rules: AlertRules
        do {
            rules =
                try c.rulesFile.map { path throws(AlertRulesError) in try AlertRules.load(path: path) }
                ?? AlertRules.bundled()
        } catch {
            throw ConfigurationError("alert rules: \(error) (check --rules)")
        }
        var settings = WorkerSettings(
            brokers: brokers, groupID: c.groupID, inputTopic: c.topics.input, inputLayout: c.inputLayout,
            summariesTopic: c.topics.summaries,
            alertsTopic: c.topics.alerts, rejectedTopic: c.topics.rejected,
            guarantee: c.guarantee,
            transactionalID: c.transactionalID, batchMaxMessages: c.batchMaxMessages,
            batchMaxMilliseconds: c.batchMaxMs, kafkaProperties: c.kafka.values,
            registries: registries, rules: rules
        )
        settings.instanceID = c.instanceID
        settings.stallLimit = .seconds(c.stallTimeoutSeconds)
        return settings
    }

    /// Override `ClusterProfile.sequencedBacklogLimit` for benchmark runs (records, bytes; > 0).
    public static let benchBacklogVariable = "KHUYENCONG_BENCH_SEQUENCED_BACKLOG"
    public static let benchBacklogBytesVariable = "KHUYENCONG_BENCH_SEQUENCED_BACKLOG_BYTES"

    /// Runs until SIGINT/SIGTERM (or cancellation), then shuts down gracefully. `printBootstrap`
    /// receives the embedded broker's bootstrap list; `extraServices` run in the same group
    /// (the demo's feeder and screen).
    public func run(
        printBootstrap: @Sendable (String) -> Void = { _ in },
        extraServices: @Sendable (Started) -> [any Service] = { _ in [] }
    ) async throws {
        // Files first, so a bad one fails before anything starts.
        var settings = try workerSettings(brokers: configuration.brokers ?? "")
        // Experiment knob for `bench worker` (issue #20), not a user setting: the sequenced backlog
        // limits over the cluster profile's.
        let environment = ProcessInfo.processInfo.environment
        func positive(_ name: String) -> Int? { environment[name].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil } }
        settings.maxSequencedBacklog = positive(Self.benchBacklogVariable)
        settings.maxSequencedBacklogBytes = positive(Self.benchBacklogBytesVariable)
        // Embedded broker when no --brokers: it lives until this function returns.
        var broker: EmbeddedBroker?
        if configuration.brokers == nil {
            do {
                broker = try EmbeddedBroker(brokers: 3, logger: logger)
            } catch {
                throw RunError("cannot start the embedded Kafka broker: \(error)")
            }
        }
        let bootstrap = configuration.brokers ?? broker?.bootstrapServers ?? ""
        settings.brokers = bootstrap
        // The worker recognises the embedded broker itself (`ClusterProfile`), wherever it runs.
        if let broker {
            do { try ensureTopics(TopicPlan(settings), on: broker) } catch {
                throw RunError("cannot create the topics on the embedded broker: \(error)")
            }
            printBootstrap(bootstrap)
            logger.info("embedded Kafka broker started", metadata: ["bootstrap": "\(bootstrap)"])
        } else {
            do {
                try await ensureTopics(
                    TopicPlan(settings), brokers: bootstrap, properties: configuration.kafka.values, logger: logger)
            } catch let error as KafkaError where error.code == .unsupportedFeature {
                logger.info("topics not created: \(error.message)")
            } catch {
                // Topics may be managed by the operator (no CreateTopics ACL): the worker reports
                // a missing one clearly when it subscribes.
                logger.warning("could not ensure the topics, using them as they are: \(error)")
            }
        }
        logger.info(
            "starting",
            metadata: ["configuration": "\(configuration)", "allocator": "\(Allocator.description ?? "not jemalloc")"])

        let worker = Worker(settings: settings, logger: logger)
        let readModel = ReadModel(alertSeries: AlertSeries(registry: metrics))
        let follower = ReadSideFollower(settings: Self.readSideSettings(settings), model: readModel, logger: logger)
        let endpoints = HTTPEndpoints(
            model: readModel,
            otherReadiness: {
                worker.isReady ? nil : "the worker is joining its group or restoring its state"
            }, liveness: { worker.liveness() })
        let dashboard = DashboardAddress()
        let http = try Self.httpServer(
            configuration, endpoints: endpoints, metrics: metrics, logger: logger,
            address: dashboard)
        let started = Started(
            bootstrap: bootstrap, embedded: broker != nil, worker: worker, settings: settings,
            readModel: readModel, dashboard: dashboard)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            // A fatal worker error stops the HTTP server gracefully too: cancelling it races
            // its own shutdown ("Already closed" logged after the worker's fatal message).
            .init(
                service: worker, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: follower, successTerminationBehavior: .gracefullyShutdownGroup),
            .init(
                service: Explained(http, "HTTP server on \(configuration.httpHost):\(configuration.httpPort)"),
                successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        services += extraServices(started).map {
            .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup)
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
            ))
        try await group.run()
        logger.info("stopped")
        withExtendedLifetime(broker) {}
    }

    /// The read side's settings for a worker's cluster, topics and client properties.
    public static func readSideSettings(_ settings: WorkerSettings) -> ReadSideSettings {
        ReadSideSettings(
            brokers: settings.brokers, summariesTopic: settings.summariesTopic,
            alertsTopic: settings.alertsTopic, kafkaProperties: settings.kafkaProperties)
    }

    /// The HTTP server over the read side; logs its address once listening.
    static func httpServer(
        _ configuration: RunConfiguration, endpoints: HTTPEndpoints, metrics: PrometheusCollectorRegistry,
        logger: Logger, address: DashboardAddress, onListening: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        try HTTPServer.makeApplication(
            host: configuration.httpHost, port: configuration.httpPort, endpoints: endpoints, metrics: metrics,
            logger: logger
        ) { [logger] port in
            let url = address.set(host: configuration.httpHost, port: port)
            logger.info(
                "HTTP listening",
                metadata: ["address": "\(configuration.httpHost):\(port)", "dashboard": "\(url)"])
            onListening(url)
        }
    }

    static func jsonArray(_ objects: [[UInt8]]) -> [UInt8] { HTTPServer.jsonArray(objects) }
}

/// Runs a service and, when it fails, says which one (e.g. a busy HTTP port).
struct Explained<Wrapped: Service>: Service {
    let wrapped: Wrapped
    let what: String
    init(_ wrapped: Wrapped, _ what: String) {
        self.wrapped = wrapped
        self.what = what
    }

    func run() async throws {
        do { try await wrapped.run() } catch is CancellationError { throw CancellationError() } catch {
            throw RunError("\(what): \(error)")
        }
    }
}

/// A failure to start or run: one line for the operator.
public struct RunError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
