import Kafka

/// The release, in one place: `khuyencong --version`, `khuyencong_build_info` and the image tag
/// in deploy/ come from here.
public enum BuildInfo {
    public static let version = "1.0.0"
    public static var librdkafkaVersion: String { KafkaPropertyCheck.librdkafkaVersion }
    /// What `--version` prints.
    public static var versionLine: String { "khuyencong \(version) (librdkafka \(librdkafkaVersion))" }
}
