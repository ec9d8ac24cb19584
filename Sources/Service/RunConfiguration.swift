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

    /// nil: start the embedded broker in-process (`--embedded`).
    public var brokers: String?
    public var groupID: String
    /// This worker's stable name (default: the host name, which a StatefulSet keeps stable);
    /// the default transactional id is derived from it.
    public var instanceID: String
    public var topics: Topics
    /// One shared input topic, or one per unit named `{topics.input}.{code}`.
    public var inputLayout: InputTopicLayout
    public var inputTopics: InputTopics { InputTopics(name: topics.input, layout: inputLayout) }
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
    /// `/healthz` answers 503 when the batch loop has made no progress for this long while input waits.
    public var stallTimeoutSeconds: Int
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    public var kafka: KafkaProperties

    /// How log lines are written on standard error.
    public enum LogFormat: String, Sendable, CaseIterable {
        /// swift-log's stream format, for people.
        case text
        /// One JSON object per line, metadata as fields, for log collectors.
        case json
    }

    public static let defaultGroupID = WorkerSettings.defaultGroupID
    public static let defaultHTTP = "127.0.0.1:8080"
    public static let defaultBatchMaxMessages = WorkerSettings.defaultBatchMaxMessages
    public static let defaultBatchMaxMs = WorkerSettings.defaultBatchMaxMilliseconds
    public static let defaultStallTimeoutSeconds = Int(WorkerSettings.defaultStallLimit.components.seconds)
    /// Prefix of the per-property librdkafka variables (`KHUYENCONG_KAFKA_SASL_PASSWORD`).
    public static let kafkaEnvironmentPrefix = "KHUYENCONG_KAFKA_"
    /// Every fixed environment variable `khuyencong run` reads (plus `KHUYENCONG_KAFKA_*`).
    public static let environmentVariables: [String] =
        RunSetting.allCases.filter { $0 != .kafka }.map(\.environmentVariable)
    /// `KHUYENCONG_*` variables read by other commands (`bench`), not errors when set.
    static let otherCommandsVariables: Set<String> = [
        "KHUYENCONG_BENCH_KAFKA", "KHUYENCONG_BENCH_KAFKA_DEBUG", "KHUYENCONG_BENCH_LOG",
        "KHUYENCONG_BENCH_SEQUENCED_BACKLOG", "KHUYENCONG_BENCH_SEQUENCED_BACKLOG_BYTES",
    ]
    /// librdkafka properties that have their own option.
    static let reservedKafkaProperties: [String: RunSetting] = [
        "bootstrap.servers": .brokers, "metadata.broker.list": .brokers,
        "group.id": .groupID, "transactional.id": .transactionalID,
    ]

    public var description: String {
        var parts = [
            "brokers=\(brokers ?? "embedded")", "group-id=\(groupID)", "instance-id=\(instanceID)",
            "input-topic=\(topics.input)", "input-topics=\(inputLayout.rawValue)",
            "summaries-topic=\(topics.summaries)", "alerts-topic=\(topics.alerts)",
            "rejected-topic=\(topics.rejected)", "guarantee=\(guarantee.rawValue)",
            "http=\(httpHost):\(httpPort)", "rules=\(rulesFile ?? "bundled")",
            "registry-2004=\(registry2004File ?? "bundled")", "registry-2025=\(registry2025File ?? "bundled")",
            "transactional-id=\(transactionalID)", "batch-max-messages=\(batchMaxMessages)",
            "batch-max-ms=\(batchMaxMs)", "stall-timeout-s=\(stallTimeoutSeconds)",
            "log-level=\(logLevel.rawValue)", "log-format=\(logFormat.rawValue)",
        ]
        parts.append("kafka=\(kafka)")
        return parts.joined(separator: " ")
    }
}

extension RunConfiguration {
    /// Layers flags over the environment over the config file over the defaults.
    /// `clusterRequired` (`run`): without `--brokers` (or `KHUYENCONG_BROKERS`, or the file's
    /// `brokers`) and without `--embedded` it refuses to resolve, so a missing setting never
    /// yields a healthy worker on a stand-in cluster; otherwise no brokers means the embedded one.
    /// `readFile` returns a file's text (injectable for tests). Errors are one line, with every
    /// secret value configured anywhere redacted.
    public static func resolve(
        flags: RunFlags,
        environment: [String: String],
        hostname: String = ProcessInfo.processInfo.hostName,
        clusterRequired: Bool = false,
        readFile: (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) throws(ConfigurationError) -> RunConfiguration {
        // Secret values from every source known so far: an error may quote any value.
        var secrets = flags.kafka.compactMap { pair -> String? in
            guard let eq = pair.firstIndex(of: "=") else { return nil }
            return KafkaProperties.isSecret(String(pair[..<eq])) ? String(pair[pair.index(after: eq)...]) : nil
        }
        secrets += environment.compactMap { variable, value in
            KafkaProperties.propertyName(forEnvironmentVariable: variable).flatMap {
                KafkaProperties.isSecret($0) ? value : nil
            }
        }
        do {
            return try resolveUnredacted(
                flags: flags, environment: environment, hostname: hostname,
                clusterRequired: clusterRequired, readFile: readFile, secrets: &secrets)
        } catch {
            throw ConfigurationError(Redactor(secrets: secrets).scrub(error.message))
        }
    }

    /// An unknown `KHUYENCONG_*` variable, with the closest valid name.
    static func checkEnvironmentNames(_ environment: [String: String]) throws(ConfigurationError) {
        for variable in environment.keys.sorted() where variable.hasPrefix("KHUYENCONG_") {
            if environmentVariables.contains(variable) || otherCommandsVariables.contains(variable)
                || KafkaProperties.propertyName(forEnvironmentVariable: variable) != nil
            {
                continue
            }
            throw ConfigurationError(
                "unknown setting \(variable)\(ClosestName.hint(for: variable, among: environmentVariables))")
        }
    }

    private static func resolveUnredacted(
        flags: RunFlags, environment: [String: String], hostname: String, clusterRequired: Bool,
        readFile: (String) throws -> String, secrets: inout [String]
    ) throws(ConfigurationError) -> RunConfiguration {
        func read(_ path: String, what: String) throws(ConfigurationError) -> String {
            do { return try readFile(path) } catch {
                throw ConfigurationError("cannot read the \(what) \(path): check the path and its permissions")
            }
        }
        try checkEnvironmentNames(environment)
        let given = flags.given
        let env = Dictionary(
            uniqueKeysWithValues: RunSetting.allCases.compactMap { setting -> (RunSetting, String)? in
                guard setting != .kafka, let value = environment[setting.environmentVariable], !value.isEmpty else {
                    return nil
                }
                return (setting, value)
            })
        var file: ConfigFile = ConfigFile()
        if let path = given[.config] ?? env[.config] {
            file = try ConfigFile.parse(read(path, what: "config file"), path: path)
        }
        func value(_ setting: RunSetting) -> (text: String, origin: String)? {
            if let v = given[setting] { return (v, setting.flag) }
            if let v = env[setting] { return (v, setting.environmentVariable) }
            if let v = file.values[setting] { return (v, "\(setting.rawValue) in the config file") }
            return nil
        }

        // librdkafka properties: config-file map < properties file < environment < --kafka.
        var kafka = file.kafka
        secrets += kafka.secretValues
        if let (path, _) = value(.kafkaPropertiesFile) {
            let fromFile = try KafkaProperties.parseProperties(read(path, what: "Kafka properties file"), source: path)
            secrets += fromFile.secretValues
            kafka = kafka.overridden(by: fromFile)
        }
        var fromEnvironment = KafkaProperties()
        for (variable, v) in environment {
            if let name = KafkaProperties.propertyName(forEnvironmentVariable: variable) {
                fromEnvironment.set(name, v, from: variable)
            }
        }
        kafka = kafka.overridden(by: fromEnvironment)
        var fromFlags = KafkaProperties()
        for (index, pair) in flags.kafka.enumerated() {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw ConfigurationError(
                    "--kafka (occurrence \(index + 1)) must be KEY=VALUE, e.g. --kafka security.protocol=SASL_SSL")
            }
            fromFlags.set(
                String(pair[..<eq]).trimmingCharacters(in: .whitespaces), String(pair[pair.index(after: eq)...]),
                from: "--kafka")
        }
        kafka = kafka.overridden(by: fromFlags)
        for (name, setting) in reservedKafkaProperties.sorted(by: { $0.key < $1.key }) where kafka[name] != nil {
            throw ConfigurationError(
                "the Kafka property \(name) is set by \(setting.flag) (\(setting.environmentVariable)); remove "
                    + "it from the pass-through properties"
            )
        }

        func text(_ setting: RunSetting, default fallback: String) throws(ConfigurationError) -> String {
            guard let (v, origin) = value(setting) else { return fallback }
            let trimmed = v.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { throw ConfigurationError("\(origin) is empty: give a value or leave it out") }
            return trimmed
        }
        func name(_ setting: RunSetting, default fallback: String, what: String) throws(ConfigurationError) -> String {
            let name = try text(setting, default: fallback)
            let allowed = name.utf8.allSatisfy { c in
                (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || c == 0x2E
                    || c == 0x5F || c == 0x2D
            }
            guard allowed, name.utf8.count <= 249, name != ".", name != ".." else {
                throw ConfigurationError(
                    "\(value(setting)?.origin ?? setting.flag) '\(name)' is not \(what): use up to 249 of "
                        + "[A-Za-z0-9._-]"
                )
            }
            return name
        }
        func topic(_ setting: RunSetting, default fallback: String) throws(ConfigurationError) -> String {
            try name(setting, default: fallback, what: "a Kafka topic name")
        }
        func integer(_ setting: RunSetting, default fallback: Int, range: ClosedRange<Int>) throws(ConfigurationError)
            -> Int
        {
            guard let (v, origin) = value(setting) else { return fallback }
            guard let n = Int(v.trimmingCharacters(in: .whitespaces)), range.contains(n) else {
                throw ConfigurationError(
                    "\(origin) must be an integer from \(range.lowerBound) to \(range.upperBound), got '\(v)'")
            }
            return n
        }
        func path(_ setting: RunSetting) throws(ConfigurationError) -> String? {
            value(setting) == nil ? nil : try text(setting, default: "")
        }
        func choice<T: RawRepresentable & CaseIterable>(_ setting: RunSetting, default fallback: T)
            throws(ConfigurationError) -> T
        where T.RawValue == String {
            let chosen = try text(setting, default: fallback.rawValue)
            guard let result = T(rawValue: chosen.lowercased()) else {
                let allowed = T.allCases.map(\.rawValue)
                let list =
                    allowed.count == 2 ? allowed.joined(separator: " or ") : "one of " + allowed.joined(separator: ", ")
                throw ConfigurationError("\(value(setting)?.origin ?? setting.flag) must be \(list), got '\(chosen)'")
            }
            return result
        }

        var brokers: String?
        if value(.brokers) != nil { brokers = try text(.brokers, default: "") }
        if flags.embedded, let origin = value(.brokers)?.origin {
            throw ConfigurationError("--embedded and \(origin) exclude each other: give one of them")
        }
        if clusterRequired, brokers == nil, !flags.embedded {
            throw ConfigurationError(
                "no Kafka cluster given: set --brokers HOST:PORT,… (or KHUYENCONG_BROKERS), or --embedded for an "
                    + "in-process test broker"
            )
        }
        let groupID = try topic(.groupID, default: defaultGroupID)
        let instanceID = try name(.instanceID, default: hostname, what: "an instance id")
        let http = try text(.http, default: defaultHTTP)
        guard let (host, port) = parseHostPort(http) else {
            throw ConfigurationError(
                "\(value(.http)?.origin ?? "--http") must be HOST:PORT with a port from 0 to 65535, e.g. "
                    + "127.0.0.1:8080, got '\(http)'"
            )
        }
        return RunConfiguration(
            brokers: brokers,
            groupID: groupID,
            instanceID: instanceID,
            topics: Topics(
                input: try topic(.inputTopic, default: Topics.defaults.input),
                summaries: try topic(.summariesTopic, default: Topics.defaults.summaries),
                alerts: try topic(.alertsTopic, default: Topics.defaults.alerts),
                rejected: try topic(.rejectedTopic, default: Topics.defaults.rejected)
            ),
            inputLayout: try choice(.inputTopics, default: InputTopicLayout.shared),
            guarantee: try choice(.guarantee, default: DeliveryGuarantee.exactlyOnce),
            httpHost: host,
            httpPort: port,
            rulesFile: try path(.rules),
            registry2004File: try path(.registry2004),
            registry2025File: try path(.registry2025),
            transactionalID: try text(.transactionalID, default: "\(groupID)-\(instanceID)"),
            batchMaxMessages: try integer(.batchMaxMessages, default: defaultBatchMaxMessages, range: 1...1_000_000),
            batchMaxMs: try integer(.batchMaxMs, default: defaultBatchMaxMs, range: 0...60_000),
            stallTimeoutSeconds: try integer(.stallTimeoutS, default: defaultStallTimeoutSeconds, range: 1...86_400),
            logLevel: try choice(.logLevel, default: Logger.Level.info),
            logFormat: try choice(.logFormat, default: LogFormat.text),
            kafka: kafka
        )
    }

    /// librdkafka's verdict on the pass-through properties, as this configuration's worker
    /// applies them (`KafkaProperties.check`); the embedded broker's address is not known yet
    /// and does not matter to the check.
    public func checkKafkaProperties() throws(ConfigurationError) {
        try kafka.check(
            brokers: brokers ?? "127.0.0.1:9092", groupID: groupID,
            transactionalID: guarantee == .exactlyOnce ? transactionalID : nil)
    }

    /// `127.0.0.1:8080`, `localhost:0`, `[::1]:8080`.
    static func parseHostPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            return nil
        }
        return (host, port)
    }
}
