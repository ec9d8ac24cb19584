import ArgumentParser
import Foundation
import Logging
import Service

/// `khuyencong serve --brokers LIST`: the read side alone (HTTP API and dashboard over the
/// output topics), no aggregation, not a member of the worker's group.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the dashboard and /v1/summaries, /v1/alerts from the output topics, without aggregating.",
        discussion: """
            Takes the options of `run`; it uses --brokers (required), --http, --summaries-topic, --alerts-topic, \
            the librdkafka properties and --log-level, and ignores the worker's own options. It reads the output \
            topics from the beginning (read_committed), follows them live and is ready once caught up with their \
            end offsets at start.
            """
    )

    @OptionGroup var flags: RunFlags

    func run() async throws {
        let configuration = try resolveConfiguration(flags)
        guard configuration.brokers != nil else {
            throw failure(
                "serve needs --brokers LIST (or KHUYENCONG_BROKERS): the cluster whose output topics it "
                    + "reads", code: configurationErrorExitCode)
        }
        let metrics = try bootstrapProcess(configuration)
        let runner = ServeRunner(configuration: configuration, logger: Logger(label: "khuyencong"), metrics: metrics)
        try await reportingFailures(secrets: configuration.kafka.secretValues) { try await runner.run() }
    }
}
