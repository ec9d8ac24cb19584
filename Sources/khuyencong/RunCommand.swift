import ArgumentParser
import Service
import Logging

/// `khuyencong run`: the worker and its HTTP endpoints, until SIGINT/SIGTERM.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker (and /healthz, /readyz, /metrics, /v1/summaries, /v1/alerts).",
        discussion: "Every option also reads KHUYENCONG_<OPTION> and the key <option> of the --config YAML file (flag > env > file > default). librdkafka properties pass through with --kafka KEY=VALUE, KHUYENCONG_KAFKA_<KEY_WITH_UNDERSCORES>, --kafka-properties-file or the file's kafka: map; secret values are never printed. Without --brokers an embedded broker starts in-process and its bootstrap list is printed first."
    )

    @OptionGroup var options: RunOptions

    func run() async throws {
        let configuration = try resolveConfiguration(options)
        let metrics = ProcessSetup.bootstrap(level: configuration.logLevel, secrets: configuration.kafka.secretValues)
        let runner = ServiceRunner(configuration: configuration, logger: Logger(label: "khuyencong"), metrics: metrics)
        try await runService(runner)
    }
}
