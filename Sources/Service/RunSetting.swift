import Foundation

/// Every setting of `khuyencong run`. Each one has a long flag, an environment variable
/// `KHUYENCONG_<FLAG_UPPER_SNAKE>` and a config-file key spelled like the flag.
public enum RunSetting: String, Sendable, CaseIterable {
    case config
    case brokers
    case groupID = "group-id"
    case instanceID = "instance-id"
    case inputTopic = "input-topic"
    case inputTopics = "input-topics"
    case summariesTopic = "summaries-topic"
    case alertsTopic = "alerts-topic"
    case rejectedTopic = "rejected-topic"
    case guarantee
    case http
    case rules
    case registry2004 = "registry-2004"
    case registry2025 = "registry-2025"
    case transactionalID = "transactional-id"
    case batchMaxMessages = "batch-max-messages"
    case batchMaxMs = "batch-max-ms"
    case stallTimeoutS = "stall-timeout-s"
    case logLevel = "log-level"
    case logFormat = "log-format"
    case kafka
    case kafkaPropertiesFile = "kafka-properties-file"

    public var flag: String { "--\(rawValue)" }

    /// `KHUYENCONG_GROUP_ID`. For `kafka` it is the prefix of the per-property variables.
    public var environmentVariable: String {
        "KHUYENCONG_" + rawValue.uppercased().replacingOccurrences(of: "-", with: "_")
            + (self == .kafka ? "_" : "")
    }

    /// The key in the YAML config file (`config` itself cannot be set from a file).
    public var fileKey: String? { self == .config ? nil : rawValue }
}
