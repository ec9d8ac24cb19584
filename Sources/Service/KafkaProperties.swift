import Foundation

/// librdkafka properties passed through to the client untouched. Their values may be secrets
/// (SASL passwords, key material, tokens), so this type never prints a secret value: its
/// description, and every log line that goes through `RedactingLogHandler`, shows `***`.
public struct KafkaProperties: Sendable, Equatable, CustomStringConvertible {
    public private(set) var values: [String: String]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    public subscript(name: String) -> String? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// `other` wins where both set a property.
    public func overridden(by other: KafkaProperties) -> KafkaProperties {
        KafkaProperties(values.merging(other.values) { _, new in new })
    }

    /// Property names whose values are never logged or exposed.
    public static func isSecret(_ name: String) -> Bool {
        let lower = name.lowercased()
        return ["password", "secret", "key", "sasl.jaas", "token", "credential", "oauthbearer.config"]
            .contains { lower.contains($0) }
    }

    /// The values to scrub from any text that leaves the process.
    public var secretValues: [String] {
        values.filter { Self.isSecret($0.key) && !$0.value.isEmpty }.map(\.value)
    }

    /// `name=value` pairs in name order, secrets as `***`.
    public var redacted: [(name: String, value: String)] {
        values.keys.sorted().map { ($0, Self.isSecret($0) ? "***" : values[$0] ?? "") }
    }

    public var description: String {
        "[" + redacted.map { "\($0.name)=\($0.value)" }.joined(separator: ", ") + "]"
    }

    /// Parses Java-properties text (`key=value` or `key: value` lines, `#`/`!` comments). Errors
    /// name the line, never its content (it may hold a secret).
    public static func parseProperties(_ text: String, source: String) throws(ConfigurationError) -> KafkaProperties {
        var result = KafkaProperties()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw ConfigurationError("\(source) line \(index + 1): expected key=value")
            }
            let name = line[..<separator].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else {
                throw ConfigurationError("\(source) line \(index + 1): the property name is empty")
            }
            result[name] = line[line.index(after: separator)...].trimmingCharacters(in: .whitespaces)
        }
        return result
    }

    /// `KHUYENCONG_KAFKA_SASL_PASSWORD` → `sasl.password`; nil for other variables.
    public static func propertyName(forEnvironmentVariable variable: String) -> String? {
        guard variable.hasPrefix(RunConfiguration.kafkaEnvironmentPrefix),
              variable != RunOption.kafkaPropertiesFile.environmentVariable
        else { return nil }
        let suffix = variable.dropFirst(RunConfiguration.kafkaEnvironmentPrefix.count)
        guard !suffix.isEmpty else { return nil }
        return suffix.lowercased().replacingOccurrences(of: "_", with: ".")
    }
}
