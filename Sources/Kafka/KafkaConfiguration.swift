import CKafkaShim

/// Producer settings: typed values for what the code relies on, plus `properties`, passed verbatim
/// to librdkafka (SASL/TLS, tuning). Unknown or invalid properties fail at creation with
/// librdkafka's own message.
public struct KafkaProducerConfiguration: Sendable {
    public var bootstrapServers: String
    public var clientID = "khuyencong"
    /// Idempotent delivery (`enable.idempotence`); on by default.
    public var idempotent = true
    /// Set for a transactional producer (implies idempotence).
    public var transactionalID: String?
    public var transactionTimeoutMs: Int?
    public var lingerMs = 5
    /// When true, every message's `DeliveryReport` is yielded on `KafkaProducer.deliveryReports`.
    public var perMessageDeliveryReports = false
    /// Raw librdkafka properties; applied last, so they override the typed values.
    public var properties: [String: String] = [:]
    /// Topic-level librdkafka properties for single topics (e.g. `compression.type`), over the
    /// producer's own for that topic.
    public var topicProperties: [String: [String: String]] = [:]

    public init(bootstrapServers: String) { self.bootstrapServers = bootstrapServers }

    var librdkafkaProperties: [(String, String)] {
        var p: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers), ("client.id", clientID),
            ("enable.idempotence", idempotent || transactionalID != nil ? "true" : "false"),
            ("linger.ms", String(lingerMs)),
        ]
        if let transactionalID { p.append(("transactional.id", transactionalID)) }
        if let transactionTimeoutMs { p.append(("transaction.timeout.ms", String(transactionTimeoutMs))) }
        return p + properties.sorted { $0.key < $1.key }
    }
}

/// Consumer settings. Manual offsets by default (`enable.auto.commit=false`), new groups start at
/// the earliest offset, `isolation.level=read_committed`.
public struct KafkaConsumerConfiguration: Sendable {
    public enum IsolationLevel: String, Sendable {
        case readCommitted = "read_committed", readUncommitted = "read_uncommitted"
    }
    public enum OffsetReset: String, Sendable { case earliest, latest, error }
    /// Eager (stop-the-world) or cooperative (incremental) rebalancing.
    public enum RebalanceProtocol: Sendable { case eager, cooperative }

    public var bootstrapServers: String
    public var groupID: String
    public var clientID = "khuyencong"
    public var isolationLevel = IsolationLevel.readCommitted
    public var autoOffsetReset = OffsetReset.earliest
    public var enableAutoCommit = false
    /// Eager by default: librdkafka before 2.3 aborts the process when a cooperative-sticky
    /// consumer is destroyed before its first assignment (librdkafka #4312; Debian 12 ships 2.0.2).
    public var rebalanceProtocol = RebalanceProtocol.eager
    public var sessionTimeoutMs: Int?
    /// librdkafka statistics interval; needed for `KafkaConsumer.lag()` (0 = off).
    public var statisticsIntervalMs = 0
    /// Raw librdkafka properties; applied last, so they override the typed values.
    public var properties: [String: String] = [:]

    public init(bootstrapServers: String, groupID: String) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
    }

    var librdkafkaProperties: [(String, String)] {
        var p: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers), ("group.id", groupID), ("client.id", clientID),
            ("isolation.level", isolationLevel.rawValue), ("auto.offset.reset", autoOffsetReset.rawValue),
            ("enable.auto.commit", enableAutoCommit ? "true" : "false"),
            (
                "partition.assignment.strategy",
                rebalanceProtocol == .cooperative ? "cooperative-sticky" : "range,roundrobin"
            ),
            ("statistics.interval.ms", String(statisticsIntervalMs)),
        ]
        if let sessionTimeoutMs { p.append(("session.timeout.ms", String(sessionTimeoutMs))) }
        return p + properties.sorted { $0.key < $1.key }
    }
}

/// A new `rd_kafka_conf_t` with `properties` set, logs routed to a queue; throws librdkafka's
/// own message for an unknown or invalid property.
package func makeConf(_ properties: [(String, String)]) throws(KafkaError) -> OpaquePointer {
    guard let conf = rd_kafka_conf_new() else {
        throw KafkaError(RD_KAFKA_RESP_ERR__FAIL, message: "rd_kafka_conf_new failed")
    }
    try set(properties + [("log.queue", "true")], destroy: { rd_kafka_conf_destroy(conf) }) {
        rd_kafka_conf_set(conf, $0, $1, $2, $3)
    }
    return conf
}

/// A topic configuration holding `properties` (librdkafka's topic-level ones) over the client's
/// defaults for every topic (`rk`; nil: librdkafka's defaults, to check the properties).
func makeTopicConf(_ properties: [String: String], over rk: OpaquePointer?) throws(KafkaError) -> OpaquePointer {
    guard let conf = rk.map(rd_kafka_default_topic_conf_dup) ?? rd_kafka_topic_conf_new() else {
        throw KafkaError(RD_KAFKA_RESP_ERR__FAIL, message: "rd_kafka_topic_conf_new failed")
    }
    try set(properties.sorted { $0.key < $1.key }, destroy: { rd_kafka_topic_conf_destroy(conf) }) {
        rd_kafka_topic_conf_set(conf, $0, $1, $2, $3)
    }
    return conf
}

/// Sets each property with `apply` (`rd_kafka_conf_set` or `rd_kafka_topic_conf_set` on one
/// configuration); on the first refusal, destroys the configuration and throws librdkafka's message.
private func set(
    _ properties: [(key: String, value: String)], destroy: () -> Void,
    _ apply: (String, String, UnsafeMutablePointer<CChar>, Int) -> rd_kafka_conf_res_t
) throws(KafkaError) {
    for (key, value) in properties {
        var errstr = [CChar](repeating: 0, count: 512)
        if apply(key, value, &errstr, errstr.count) != RD_KAFKA_CONF_OK {
            destroy()
            throw KafkaError(RD_KAFKA_RESP_ERR__INVALID_ARG, message: string(cBuffer: errstr))
        }
    }
}
