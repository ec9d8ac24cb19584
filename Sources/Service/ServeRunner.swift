import Foundation
import Hummingbird
import Logging
import Prometheus
import ReadSide
import ServiceLifecycle

/// `khuyencong serve`: the read side alone — the read model followed from the output topics,
/// the HTTP API and the dashboard — with no aggregation and no group membership, for a
/// front-end deployment scaled on its own.
public struct ServeRunner: Sendable {
    public let configuration: RunConfiguration
    public let logger: Logger
    public let metrics: PrometheusCollectorRegistry

    public init(configuration: RunConfiguration, logger: Logger, metrics: PrometheusCollectorRegistry) {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
    }

    /// Runs until SIGINT/SIGTERM (or cancellation). `onListening` receives the dashboard URL.
    public func run(onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        guard let brokers = configuration.brokers, !brokers.isEmpty else {
            throw ConfigurationError("serve needs --brokers LIST: the cluster whose output topics it reads")
        }
        let settings = ReadSideSettings(
            brokers: brokers, summariesTopic: configuration.topics.summaries,
            alertsTopic: configuration.topics.alerts,
            kafkaProperties: configuration.kafka.values)
        logger.info("serving the read side", metadata: ["configuration": "\(configuration)"])
        let model = ReadModel(alertSeries: AlertSeries(registry: metrics))
        let follower = ReadSideFollower(settings: settings, model: model, logger: logger)
        let address = DashboardAddress()
        let http = try ServiceRunner.httpServer(
            configuration, endpoints: HTTPEndpoints(model: model), metrics: metrics,
            logger: logger, address: address, onListening: onListening)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: follower, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(
                        service: Explained(http, "HTTP server on \(configuration.httpHost):\(configuration.httpPort)"),
                        successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
            ))
        try await group.run()
        logger.info("stopped")
    }
}
