import ArgumentParser

/// The flags of `khuyencong run`, as given (nil = not given). `RunConfiguration.resolve` layers
/// them over the environment, the config file and the defaults.
public struct RunFlags: ParsableArguments, Sendable {
    @Option(help: "YAML config file whose keys are the long flag names (env KHUYENCONG_CONFIG).")
    public var config: String?

    @Option(help: "Kafka bootstrap list host:port,… (required unless --embedded).")
    public var brokers: String?

    @Flag(help: "Start the in-process test broker instead of --brokers; print its bootstrap list first.")
    public var embedded = false

    @Option(
        name: .customLong("group-id"),
        help: "Consumer group id; also the prefix of the internal topics (default khuyencong-aggregator).")
    public var groupID: String?

    @Option(
        name: .customLong("instance-id"),
        help: "This worker's stable name; the transactional id derives from it (default: the host name).")
    public var instanceID: String?

    @Option(name: .customLong("input-topic"), help: "Input topic (default khuyencong.execution-updates.v1).")
    public var inputTopic: String?

    @Option(
        name: .customLong("input-topics"),
        help: ArgumentHelp(
            "shared (default: every province writes the input topic) or per-province: read one "
                + "topic per unit, {input-topic}.{code}, and reject an update of another unit there (key_mismatch)."))
    public var inputTopics: String?

    @Option(
        name: .customLong("summaries-topic"),
        help: "Regional summaries topic (default khuyencong.regional-summaries.v1).")
    public var summariesTopic: String?

    @Option(name: .customLong("alerts-topic"), help: "Alerts topic (default khuyencong.alerts.v1).")
    public var alertsTopic: String?

    @Option(name: .customLong("rejected-topic"), help: "Rejected records topic (default khuyencong.rejected.v1).")
    public var rejectedTopic: String?

    @Option(help: "exactly-once (default) or at-least-once.")
    public var guarantee: String?

    @Option(help: "HTTP listen address HOST:PORT (default 127.0.0.1:8080).")
    public var http: String?

    @Option(help: "Alert rules file (default: the bundled rules).")
    public var rules: String?

    @Option(name: .customLong("registry-2004"), help: "Province registry 2004 CSV (default: bundled).")
    public var registry2004: String?

    @Option(name: .customLong("registry-2025"), help: "Province registry 2025 CSV (default: bundled).")
    public var registry2025: String?

    @Option(name: .customLong("transactional-id"), help: "Kafka transactional id (default {group-id}-{instance-id}).")
    public var transactionalID: String?

    @Option(name: .customLong("batch-max-messages"), help: "Most messages per batch (default 20000).")
    public var batchMaxMessages: String?

    @Option(name: .customLong("batch-max-ms"), help: "Longest wait to fill a batch, in ms (default 20).")
    public var batchMaxMs: String?

    @Option(
        name: .customLong("stall-timeout-s"),
        help: ArgumentHelp(
            "Seconds the batch loop may go without progress while input waits before /healthz "
                + "answers 503 (default 60)."))
    public var stallTimeoutS: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info (default), notice, warning, error or critical.")
    public var logLevel: String?

    @Option(
        name: .customLong("log-format"),
        help: "text (default) or json: one JSON object per line, the log's metadata as fields.")
    public var logFormat: String?

    @Option(
        name: .customLong("kafka"),
        help: ArgumentHelp("librdkafka property passed through (repeatable).", valueName: "KEY=VALUE"))
    public var kafka: [String] = []

    @Option(
        name: .customLong("kafka-properties-file"),
        help: "Java-properties file of librdkafka properties (e.g. a mounted Secret).")
    public var kafkaPropertiesFile: String?

    public init() {}

    /// The single-valued flags that were given.
    var given: [RunSetting: String] {
        let pairs: [(RunSetting, String?)] = [
            (.config, config), (.brokers, brokers), (.groupID, groupID), (.instanceID, instanceID),
            (.inputTopic, inputTopic),
            (.inputTopics, inputTopics),
            (.summariesTopic, summariesTopic), (.alertsTopic, alertsTopic), (.rejectedTopic, rejectedTopic),
            (.guarantee, guarantee), (.http, http), (.rules, rules), (.registry2004, registry2004),
            (.registry2025, registry2025), (.transactionalID, transactionalID),
            (.batchMaxMessages, batchMaxMessages), (.batchMaxMs, batchMaxMs),
            (.stallTimeoutS, stallTimeoutS), (.logLevel, logLevel), (.logFormat, logFormat),
            (.kafkaPropertiesFile, kafkaPropertiesFile),
        ]
        return Dictionary(uniqueKeysWithValues: pairs.compactMap { option, value in value.map { (option, $0) } })
    }
}
