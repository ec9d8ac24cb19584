import ArgumentParser
import Foundation
import Logging
import Service

/// `khuyencong demo` (what `make run` starts): `run` on the embedded broker, fed with the
/// bundled synthetic sample stream, with a live table of regional totals and active alerts.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "Run the worker on an embedded broker, feed it the bundled sample stream and show live regional totals.",
        discussion: "Takes the options of `run`. Logs only warnings and above unless --log-level (or "
            + "KHUYENCONG_LOG_LEVEL) says otherwise, so they do not disturb the table."
    )

    @OptionGroup var options: RunFlags

    @Option(help: "JSONL file to feed instead of the bundled sample stream.")
    var sample: String?

    func run() async throws {
        var configuration = try resolveConfiguration(options)
        if options.logLevel == nil, ProcessInfo.processInfo.environment["KHUYENCONG_LOG_LEVEL"] == nil {
            configuration.logLevel = .warning
        }
        guard let samplePath = sample ?? SampleStream.bundledPath else {
            throw failure("the bundled sample stream is missing; give one with --sample FILE")
        }
        let metrics = ProcessSetup.bootstrap(
            level: configuration.logLevel, format: configuration.logFormat,
            secrets: configuration.kafka.secretValues)
        let logger = Logger(label: "khuyencong")
        let runner = ServiceRunner(configuration: configuration, logger: logger, metrics: metrics)
        let interactive = isatty(STDOUT_FILENO) == 1
        try await runService(runner) { started in
            [
                DemoService(
                    started: started, samplePath: samplePath, metrics: metrics, logger: logger, interactive: interactive
                ) { text in
                    FileHandle.standardOutput.write(Data(text.utf8))
                }
            ]
        }
    }
}
