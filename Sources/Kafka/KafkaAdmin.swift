import CKafkaShim
import Logging

/// A topic to create with `KafkaAdmin.createTopics`.
public struct NewTopic: Sendable {
    public var name: String
    public var partitions: Int32
    public var replicationFactor: Int32
    /// Topic configs, e.g. `["cleanup.policy": "compact"]`.
    public var configs: [String: String]
    public init(name: String, partitions: Int32, replicationFactor: Int32 = 3, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// Cluster administration (rd_kafka_CreateTopics).
public enum KafkaAdmin {
    /// Creates `topics`; topics that already exist are fine (idempotent). `properties` are raw
    /// librdkafka client properties (SASL/TLS). Throws `unsupportedFeature` at once on an embedded
    /// broker (`khuyencong broker` in another process): the mock has no CreateTopics, and
    /// librdkafka would wait for its controller until the timeout. It creates a topic on first use.
    public static func createTopics(
        _ topics: [NewTopic], bootstrapServers: String, properties: [String: String] = [:],
        timeout: Duration = .seconds(30),
        logger: Logger = Logger(label: "kafka.admin")
    ) async throws(KafkaError) {
        guard !topics.isEmpty else { return }
        let conf = try makeConf([("bootstrap.servers", bootstrapServers)] + properties.sorted { $0.key < $1.key })
        let client = try KafkaClient(RD_KAFKA_PRODUCER, conf: conf, logger: logger, label: "admin")
        client.start()
        let ms = timeout.milliseconds
        let result = await client.perform { () -> Result<Void, KafkaError> in
            Result { () throws(KafkaError) in
                if EmbeddedBroker.isEmbedded(clusterID: try clusterID(client, timeoutMs: ms)) {
                    throw KafkaError(
                        RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE,
                        message: "the embedded broker cannot create topics on request; it creates each "
                            + "on first use (4 partitions)")
                }
                try createTopics(topics, rk: client.rk, timeoutMs: ms)
            }
        }
        await client.shutdownAsync()
        try result.get()
    }

    /// The cluster's id, waited for in slices: a failed authentication ends the wait at once
    /// (librdkafka would retry it until the timeout).
    private static func clusterID(_ client: KafkaClient, timeoutMs: Int32) throws(KafkaError) -> String {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        while true {
            if let id = rd_kafka_clusterid(client.rk, 500) {
                defer { rd_kafka_mem_free(client.rk, id) }
                return String(cString: id)
            }
            if let fatal = client.fatalError { throw fatal }
            guard ContinuousClock.now < deadline else {
                throw KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, message: "no cluster metadata within \(timeoutMs) ms")
            }
        }
    }

    private static func createTopics(_ topics: [NewTopic], rk: OpaquePointer, timeoutMs: Int32) throws(KafkaError) {
        var newTopics: [OpaquePointer?] = []
        defer { for t in newTopics { rd_kafka_NewTopic_destroy(t) } }
        for topic in topics {
            var errstr = [CChar](repeating: 0, count: 512)
            guard
                let t = rd_kafka_NewTopic_new(
                    topic.name, topic.partitions, topic.replicationFactor, &errstr, errstr.count)
            else {
                throw KafkaError(RD_KAFKA_RESP_ERR__INVALID_ARG, message: string(cBuffer: errstr))
            }
            newTopics.append(t)
            for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                try KafkaError.check(rd_kafka_NewTopic_set_config(t, key, value))
            }
        }
        guard let queue = rd_kafka_queue_new(rk) else { throw KafkaError(RD_KAFKA_RESP_ERR__FAIL) }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errstr = [CChar](repeating: 0, count: 512)
        try KafkaError.check(
            rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMs, &errstr, errstr.count),
            string(cBuffer: errstr))
        try KafkaError.check(
            rd_kafka_AdminOptions_set_request_timeout(options, timeoutMs, &errstr, errstr.count),
            string(cBuffer: errstr))
        newTopics.withUnsafeMutableBufferPointer {
            rd_kafka_CreateTopics(rk, $0.baseAddress, $0.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeoutMs &+ 1000) else {
            throw KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, message: "CreateTopics timed out")
        }
        defer { rd_kafka_event_destroy(event) }
        try KafkaError.check(
            rd_kafka_event_error(event), rd_kafka_event_error_string(event).map { String(cString: $0) })
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(
                RD_KAFKA_RESP_ERR__FAIL,
                message: "unexpected admin event \(String(cString: rd_kafka_event_name(event)))")
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for i in 0..<count {
            let err = rd_kafka_topic_result_error(results[i])
            if err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { continue }
            let name = String(cString: rd_kafka_topic_result_name(results[i]))
            let message = rd_kafka_topic_result_error_string(results[i]).map { String(cString: $0) } ?? ""
            throw KafkaError(err, message: "create topic \(name): \(message)")
        }
    }
}
