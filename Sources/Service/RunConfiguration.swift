import Foundation
import Logging
import Pipeline

/// A configuration problem: one line saying what to fix. Never holds a secret value.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The settings of `khuyencong run`, resolved with precedence flag > environment > config file
/// > default.
public struct RunConfiguration: Sendable, Equatable, CustomStringConvertible {
    public struct Topics: Sendable, Equatable {
        public var input: String
        public var summaries: String
        public var alerts: String
        public var rejected: String

        /// The contract's default topic names.
        public static let defaults = Topics(
            input: WorkerSettings.defaultInputTopic,
            summaries: WorkerSettings.defaultSummariesTopic,
            alerts: WorkerSettings.defaultAlertsTopic,
            rejected: WorkerSettings.defaultRejectedTopic
        )

        public var all: [String] { [input, summaries, alerts, rejected] }
    }

    /// nil: start the embedded broker in-process.
    public var brokers: String?
    public var groupID: String
    public var topics: Topics
    public var guarantee: DeliveryGuarantee
    public var httpHost: String
    public var httpPort: Int
    /// nil: bundled defaults.
    public var rulesFile: String?
    public var registry2004File: String?
    public var registry2025File: String?
    public var transactionalID: String
    public var batchMaxMessages: Int
    public var batchMaxMs: Int
    public var logLevel: Logger.Level
    public var kafka: KafkaProperties

    public static let defaultGroupID = WorkerSettings.defaultGroupID
    public static let defaultHTTP = "127.0.0.1:8080"
    public static let defaultBatchMaxMessages = WorkerSettings.defaultBatchMaxMessages
    public static let defaultBatchMaxMs = WorkerSettings.defaultBatchMaxMilliseconds
    /// Prefix of the per-property librdkafka variables (`KHUYENCONG_KAFKA_SASL_PASSWORD`).
    public static let kafkaEnvironmentPrefix = "KHUYENCONG_KAFKA_"
    /// Every fixed environment variable `khuyencong run` reads (plus `KHUYENCONG_KAFKA_*`).
    public static let environmentVariables: [String] =
        RunOption.allCases.filter { $0 != .kafka }.map(\.environmentVariable)
    /// librdkafka properties that have their own option.
    static let reservedKafkaProperties: [String: RunOption] = [
        "bootstrap.servers": .brokers, "metadata.broker.list": .brokers,
        "group.id": .groupID, "transactional.id": .transactionalID,
    ]

    public var description: String {
        var parts = [
            "brokers=\(brokers ?? "embedded")", "group-id=\(groupID)", "input-topic=\(topics.input)",
            "summaries-topic=\(topics.summaries)", "alerts-topic=\(topics.alerts)",
            "rejected-topic=\(topics.rejected)", "guarantee=\(guarantee.rawValue)",
            "http=\(httpHost):\(httpPort)", "rules=\(rulesFile ?? "bundled")",
            "registry-2004=\(registry2004File ?? "bundled")", "registry-2025=\(registry2025File ?? "bundled")",
            "transactional-id=\(transactionalID)", "batch-max-messages=\(batchMaxMessages)",
            "batch-max-ms=\(batchMaxMs)", "log-level=\(logLevel.rawValue)",
        ]
        parts.append("kafka=\(kafka)")
        return parts.joined(separator: " ")
    }
}

extension RunConfiguration {
    /// Layers flags over the environment over the config file over the defaults.
    /// `readFile` returns a file's text (injectable for tests).
    public static func resolve(
        options: RunOptions,
        environment: [String: String],
        hostname: String = ProcessInfo.processInfo.hostName,
        readFile: (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) throws(ConfigurationError) -> RunConfiguration {
        func read(_ path: String, what: String) throws(ConfigurationError) -> String {
            do { return try readFile(path) } catch {
                throw ConfigurationError("cannot read the \(what) \(path): check the path and its permissions")
            }
        }
        let flags = options.given
        let env = Dictionary(uniqueKeysWithValues: RunOption.allCases.compactMap { option -> (RunOption, String)? in
            guard option != .kafka, let value = environment[option.environmentVariable], !value.isEmpty else { return nil }
            return (option, value)
        })
        var file: ConfigFile = ConfigFile()
        if let path = flags[.config] ?? env[.config] {
            file = try ConfigFile.parse(read(path, what: "config file"), path: path)
        }
        func value(_ option: RunOption) -> (text: String, origin: String)? {
            if let v = flags[option] { return (v, option.flag) }
            if let v = env[option] { return (v, option.environmentVariable) }
            if let v = file.values[option] { return (v, "\(option.rawValue) in the config file") }
            return nil
        }

        // librdkafka properties: config-file map < properties file < environment < --kafka.
        var kafka = file.kafka
        if let (path, _) = value(.kafkaPropertiesFile) {
            kafka = try kafka.overridden(by: KafkaProperties.parseProperties(read(path, what: "Kafka properties file"), source: path))
        }
        var fromEnvironment = KafkaProperties()
        for (variable, v) in environment {
            if let name = KafkaProperties.propertyName(forEnvironmentVariable: variable) { fromEnvironment[name] = v }
        }
        kafka = kafka.overridden(by: fromEnvironment)
        var fromFlags = KafkaProperties()
        for (index, pair) in options.kafka.enumerated() {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw ConfigurationError("--kafka (occurrence \(index + 1)) must be KEY=VALUE, e.g. --kafka security.protocol=SASL_SSL")
            }
            fromFlags[String(pair[..<eq]).trimmingCharacters(in: .whitespaces)] = String(pair[pair.index(after: eq)...])
        }
        kafka = kafka.overridden(by: fromFlags)
        for (name, option) in reservedKafkaProperties.sorted(by: { $0.key < $1.key }) where kafka[name] != nil {
            throw ConfigurationError("the Kafka property \(name) is set by \(option.flag) (\(option.environmentVariable)); remove it from the pass-through properties")
        }

        func text(_ option: RunOption, default fallback: String) throws(ConfigurationError) -> String {
            guard let (v, origin) = value(option) else { return fallback }
            let trimmed = v.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { throw ConfigurationError("\(origin) is empty: give a value or leave it out") }
            return trimmed
        }
        func topic(_ option: RunOption, default fallback: String) throws(ConfigurationError) -> String {
            let name = try text(option, default: fallback)
            let allowed = name.utf8.allSatisfy { c in
                (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || c == 0x2E || c == 0x5F || c == 0x2D
            }
            guard allowed, name.utf8.count <= 249, name != ".", name != ".." else {
                throw ConfigurationError("\(value(option)?.origin ?? option.flag) '\(name)' is not a Kafka topic name: use up to 249 of [A-Za-z0-9._-]")
            }
            return name
        }
        func integer(_ option: RunOption, default fallback: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
            guard let (v, origin) = value(option) else { return fallback }
            guard let n = Int(v.trimmingCharacters(in: .whitespaces)), range.contains(n) else {
                throw ConfigurationError("\(origin) must be an integer from \(range.lowerBound) to \(range.upperBound), got '\(v)'")
            }
            return n
        }
        func path(_ option: RunOption) throws(ConfigurationError) -> String? {
            value(option) == nil ? nil : try text(option, default: "")
        }

        let groupID = try topic(.groupID, default: defaultGroupID)
        let guaranteeText = try text(.guarantee, default: DeliveryGuarantee.exactlyOnce.rawValue)
        guard let guarantee = DeliveryGuarantee(rawValue: guaranteeText) else {
            throw ConfigurationError("\(value(.guarantee)?.origin ?? "--guarantee") must be exactly-once or at-least-once, got '\(guaranteeText)'")
        }
        let httpText = try text(.http, default: defaultHTTP)
        guard let (host, port) = parseHostPort(httpText) else {
            throw ConfigurationError("\(value(.http)?.origin ?? "--http") must be HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8080, got '\(httpText)'")
        }
        let levelText = try text(.logLevel, default: "info")
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ConfigurationError("\(value(.logLevel)?.origin ?? "--log-level") must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got '\(levelText)'")
        }
        var brokers: String?
        if value(.brokers) != nil { brokers = try text(.brokers, default: "") }
        return RunConfiguration(
            brokers: brokers,
            groupID: groupID,
            topics: Topics(
                input: try topic(.inputTopic, default: Topics.defaults.input),
                summaries: try topic(.summariesTopic, default: Topics.defaults.summaries),
                alerts: try topic(.alertsTopic, default: Topics.defaults.alerts),
                rejected: try topic(.rejectedTopic, default: Topics.defaults.rejected)
            ),
            guarantee: guarantee,
            httpHost: host,
            httpPort: port,
            rulesFile: try path(.rules),
            registry2004File: try path(.registry2004),
            registry2025File: try path(.registry2025),
            transactionalID: try text(.transactionalID, default: "\(groupID)-\(hostname)"),
            batchMaxMessages: try integer(.batchMaxMessages, default: defaultBatchMaxMessages, range: 1...1_000_000),
            batchMaxMs: try integer(.batchMaxMs, default: defaultBatchMaxMs, range: 0...60_000),
            logLevel: level,
            kafka: kafka
        )
    }

    /// `127.0.0.1:8080`, `localhost:0`, `[::1]:8080`.
    static func parseHostPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else { return nil }
        return (host, port)
    }
}
