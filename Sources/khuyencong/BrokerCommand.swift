import ArgumentParser
import Dispatch
import Foundation
import Kafka
import Logging
import Pipeline
import Service

/// `khuyencong broker`: the embedded Kafka cluster with the contract's topics, until SIGINT/SIGTERM.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Start the embedded Kafka broker (3 brokers, the contract topics with 6 partitions) and print its "
            + "bootstrap list."
    )

    @Option(name: .customLong("bootstrap-file"), help: "Also write the bootstrap list to this file.")
    var bootstrapFile: String?

    @Option(
        name: .customLong("topic"),
        help: ArgumentHelp(
            "Also create this topic (repeatable): the embedded broker creates topics on first use with 4 partitions.",
            valueName: "NAME:PARTITIONS"))
    var topics: [String] = []

    func run() async throws {
        // Logs go to stderr: stdout's first line is the bootstrap list other tools read.
        let broker = try EmbeddedBroker(
            brokers: 3,
            logger: Logger(
                label: "khuyencong.broker", factory: { label in StreamLogHandler.standardError(label: label) }))
        for topic in RunConfiguration.Topics.defaults.all {
            try broker.createTopic(topic, partitions: TopicPlan.contractPartitions)
        }
        for spec in topics {
            let parts = spec.split(separator: ":")
            guard parts.count == 2, let partitions = Int32(parts[1]), partitions > 0 else {
                throw ValidationError("--topic must be NAME:PARTITIONS, got '\(spec)'")
            }
            try broker.createTopic(String(parts[0]), partitions: partitions)
        }
        FileHandle.standardOutput.write(Data((broker.bootstrapServers + "\n").utf8))
        if let bootstrapFile {
            try (broker.bootstrapServers + "\n").write(toFile: bootstrapFile, atomically: true, encoding: .utf8)
        }
        await waitForTerminationSignal()
        withExtendedLifetime(broker) {}
    }
}

/// Returns on the first SIGINT or SIGTERM.
func waitForTerminationSignal() async {
    let signalQueue = DispatchQueue(label: "khuyencong.signals")
    let stream = AsyncStream<Int32> { continuation in
        let sources = [SIGINT, SIGTERM].map { signo in
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: signalQueue)
            source.setEventHandler { continuation.yield(signo) }
            source.resume()
            return source
        }
        let box = SignalSources(sources)
        continuation.onTermination = { _ in box.cancel() }
    }
    for await _ in stream { return }
}

/// Keeps the signal sources alive until the wait ends.
private final class SignalSources: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
    func cancel() { sources.forEach { $0.cancel() } }
}
