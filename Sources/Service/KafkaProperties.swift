import Foundation
import Kafka
import Pipeline

/// librdkafka properties passed through to the client untouched. Their values may be secrets
/// (SASL passwords, key material, tokens), so this type never prints a secret value: its
/// description, and every log line that goes through `RedactingLogHandler`, shows `***`.
public struct KafkaProperties: Sendable, Equatable, CustomStringConvertible {
    public private(set) var values: [String: String]
    /// Where each property was set (`--kafka`, `KHUYENCONG_KAFKA_SASL_PASSWORD`, a file), so that
    /// an error names what the operator has to edit.
    public private(set) var origins: [String: String] = [:]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    public subscript(name: String) -> String? {
        get { values[name] }
        set { values[name] = newValue }
    }

    public mutating func set(_ name: String, _ value: String, from origin: String) {
        values[name] = value
        origins[name] = origin
    }

    /// `other` wins where both set a property.
    public func overridden(by other: KafkaProperties) -> KafkaProperties {
        var merged = KafkaProperties(values.merging(other.values) { _, new in new })
        merged.origins = origins.merging(other.origins) { _, new in new }
        return merged
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
            result.set(name, line[line.index(after: separator)...].trimmingCharacters(in: .whitespaces), from: source)
        }
        return result
    }

    /// `KHUYENCONG_KAFKA_SASL_PASSWORD` → `sasl.password`; nil for other variables.
    public static func propertyName(forEnvironmentVariable variable: String) -> String? {
        guard variable.hasPrefix(RunConfiguration.kafkaEnvironmentPrefix),
            variable != RunSetting.kafkaPropertiesFile.environmentVariable
        else { return nil }
        let suffix = variable.dropFirst(RunConfiguration.kafkaEnvironmentPrefix.count)
        guard !suffix.isEmpty else { return nil }
        return suffix.lowercased().replacingOccurrences(of: "_", with: ".")
    }
}

extension KafkaProperties {
    /// Lets librdkafka check the properties as the worker's producer and consumer will apply
    /// them (an unknown property, a bad value, a combination it refuses at client creation),
    /// without connecting. The error names the property and where it was set; a secret value
    /// never appears in it.
    public func check(brokers: String, groupID: String, transactionalID: String?) throws(ConfigurationError) {
        var producer = KafkaProducerConfiguration(bootstrapServers: brokers)
        producer.transactionalID = transactionalID
        producer.properties = WorkerSettings.producerTuning.merging(values) { _, configured in configured }
        var consumer = KafkaConsumerConfiguration(bootstrapServers: brokers, groupID: groupID)
        consumer.properties = WorkerSettings.consumerTuning.merging(values) { _, configured in configured }
        do {
            try producer.check()
            try consumer.check()
        } catch {
            throw ConfigurationError(explain(error))
        }
    }

    func explain(_ refusal: KafkaPropertyRefusal) -> String {
        let redactor = Redactor(secrets: secretValues)
        guard let name = refusal.property else {
            return redactor.scrub("librdkafka refuses the Kafka properties \(self): \(refusal.message)")
        }
        let origin = origins[name].map { " (set by \($0))" } ?? ""
        if !KafkaPropertyCheck.propertyNames.contains(name) {
            var hint = ClosestName.hint(for: name, among: KafkaPropertyCheck.propertyNames)
            // A misspelt fixed variable (KHUYENCONG_KAFKA_PROPERTY_FILE) reads as a property.
            if let variable = origins[name], variable.hasPrefix(RunConfiguration.kafkaEnvironmentPrefix),
                let setting = ClosestName.suggestion(for: variable, among: RunConfiguration.environmentVariables)
            {
                hint = " (did you mean \(setting)?)"
            }
            return redactor.scrub("unknown Kafka property \(name)\(origin)\(hint)")
        }
        let shown = Self.isSecret(name) ? "***" : values[name] ?? ""
        var message = refusal.message
        if Self.isSecret(name), let value = values[name], !value.isEmpty {
            message = message.replacingOccurrences(of: value, with: "***")
        }
        return redactor.scrub("Kafka property \(name)=\(shown)\(origin) is refused by librdkafka: \(message)")
    }
}
