import ArgumentParser
import Foundation
import Logging
import Prometheus
import Service

/// `khuyencong config-reference [run options]`: the release, topics, partition counts and
/// environment variables of `run` as JSON, for `deploy/check.py --config-reference`.
struct ConfigReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config-reference",
        abstract: "Print the worker's topics, partition counts and environment variables as JSON (for deploy checks).",
        shouldDisplay: false
    )

    @OptionGroup var options: RunFlags

    func run() throws {
        let configuration = try resolveConfiguration(options)
        let runner = ServiceRunner(
            configuration: configuration, logger: Logger(label: "khuyencong"), metrics: PrometheusCollectorRegistry())
        do {
            let settings = try runner.workerSettings(brokers: configuration.brokers ?? "")
            FileHandle.standardOutput.write(try ConfigurationReference.json(for: settings) + Data("\n".utf8))
        } catch let error as ConfigurationError {
            let redactor = Redactor(secrets: configuration.kafka.secretValues)
            throw failure(redactor.scrub("configuration: \(error)"), code: configurationErrorExitCode)
        }
    }
}
