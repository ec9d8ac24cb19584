import ArgumentParser
import Foundation
import Kafka
import Logging
import Service

/// `khuyencong produce FILE`: sends a JSONL file of execution updates to the input topic.
struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Send a JSONL file of execution updates (one per line, keyed by its province) and wait for delivery.",
        discussion:
            "A line that is not a JSON object with a string \"province\" is still sent, with no key, so the "
            + "worker rejects it visibly on the rejected topic. Blank lines are skipped. Brokers, topic and "
            + "librdkafka properties also come from KHUYENCONG_BROKERS, KHUYENCONG_INPUT_TOPIC and "
            + "KHUYENCONG_KAFKA_*."
    )

    @Argument(help: "JSONL file of execution updates.")
    var file: String

    @Option(help: "Kafka bootstrap list (e.g. the one `khuyencong run`, `demo` or `broker` printed).")
    var brokers: String?

    @Option(help: "Topic (default khuyencong.execution-updates.v1); with --input-topics per-province, the prefix.")
    var topic: String?

    @Option(
        name: .customLong("input-topics"),
        help: ArgumentHelp(
            "shared (default) or per-province: send each update to {topic}.{its province code}, as "
                + "a worker in per-province mode reads them."))
    var inputTopics: String?

    @Option(
        name: .customLong("kafka"),
        help: ArgumentHelp("librdkafka property passed through (repeatable).", valueName: "KEY=VALUE"))
    var kafka: [String] = []

    @Option(name: .customLong("kafka-properties-file"), help: "Java-properties file of librdkafka properties.")
    var kafkaPropertiesFile: String?

    func run() async throws {
        // The same resolution as `run`, so security settings are given the same way.
        var arguments = kafka.flatMap { ["--kafka", $0] }
        if let brokers { arguments += ["--brokers", brokers] }
        if let topic { arguments += ["--input-topic", topic] }
        if let inputTopics { arguments += ["--input-topics", inputTopics] }
        if let kafkaPropertiesFile { arguments += ["--kafka-properties-file", kafkaPropertiesFile] }
        let configuration = try resolveConfiguration(try RunFlags.parse(arguments))
        guard let bootstrap = configuration.brokers else {
            throw failure(
                "give --brokers (or KHUYENCONG_BROKERS), e.g. the bootstrap list `khuyencong run` printed",
                code: configurationErrorExitCode)
        }
        _ = ProcessSetup.bootstrap(level: .warning, secrets: configuration.kafka.secretValues)
        let redactor = Redactor(secrets: configuration.kafka.secretValues)
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: bootstrap)
        producerConfiguration.properties = configuration.kafka.values
        let inputs = configuration.inputTopics
        let topic = inputs.layout == .shared ? inputs.name : inputs.topic(ofUnit: "{code}")
        let stderr = FileHandle.standardError
        var unroutable = 0
        do {
            let producer = try KafkaProducer(
                configuration: producerConfiguration, logger: Logger(label: "khuyencong.produce"))
            let summary = try await ProduceJob.run(
                path: file,
                send: { key, value in
                    guard let target = ProduceJob.topic(for: key, in: inputs) else {
                        unroutable += 1
                        return
                    }
                    try await producer.send(topic: target, key: key, value: value)
                },
                progress: { sent, total in
                    stderr.write(Data((ProduceJob.progressLine(sent: sent, total: total) + "\n").utf8))
                })
            try await producer.flush()
            await producer.shutdown()
            let sent = summary.sent - unroutable
            var line = "sent \(sent) updates from \(file) to \(topic) on \(bootstrap); all delivered"
            if unroutable > 0 {
                line += "; \(unroutable) not sent: without a two-digit province code, no unit topic takes them"
            } else if summary.withoutKey > 0 {
                line +=
                    "; \(summary.withoutKey) without a key (not a JSON object with a string province): the "
                    + "worker will reject them"
            }
            print(line)
        } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
            throw failure("cannot read \(file)")
        } catch {
            throw failure(redactor.scrub("produce failed: \(error)"))
        }
    }
}
