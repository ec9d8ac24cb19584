import ArgumentParser
import Logging
import Service

/// `khuyencong run`: the worker and its HTTP endpoints, until SIGINT/SIGTERM.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker (and /healthz, /readyz, /metrics, /v1/summaries, /v1/alerts).",
        discussion: "Every option also reads KHUYENCONG_<OPTION> and the key <option> of the --config YAML file "
            + "(flag > env > file > default); an unknown KHUYENCONG_* variable or file key is an error. "
            + "librdkafka properties pass through with --kafka KEY=VALUE, "
            + "KHUYENCONG_KAFKA_<KEY_WITH_UNDERSCORES>, --kafka-properties-file or the file's kafka: map, and "
            + "are checked by librdkafka before anything starts; secret values are never printed. --brokers (or "
            + "--embedded, an in-process test broker whose bootstrap list is printed first) is required. "
            + "Configuration errors exit 64 with one line."
    )

    @OptionGroup var flags: RunFlags

    func run() async throws {
        let configuration = try resolveConfiguration(flags, clusterRequired: true)
        let metrics = try bootstrapProcess(configuration)
        let runner = ServiceRunner(configuration: configuration, logger: Logger(label: "khuyencong"), metrics: metrics)
        try await runService(runner)
    }
}
