import CKafkaShim
import Logging
import Synchronization

/// A Kafka producer: idempotent by default, optionally transactional.
///
/// `send` only enqueues (librdkafka copies the bytes); delivery is reported asynchronously:
/// `flush()` awaits every outstanding delivery and throws the first delivery error since the
/// previous flush; with `perMessageDeliveryReports` each report is also yielded on
/// `deliveryReports`. Call `shutdown()` when done (it flushes).
public final class KafkaProducer: Sendable {
    let client: KafkaClient
    let state: DeliveryState
    private let topics = Mutex<[String: KafkaTopic]>([:])
    private let topicProperties: [String: [String: String]]
    /// Per-message delivery reports (empty stream unless `perMessageDeliveryReports`; unbounded:
    /// consume it when enabled).
    public let deliveryReports: AsyncStream<DeliveryReport>
    /// Whether the producer was configured with a `transactional.id`.
    public let isTransactional: Bool

    public init(configuration: KafkaProducerConfiguration, logger: Logger = Logger(label: "kafka.producer"))
        throws(KafkaError)
    {
        let conf = try makeConf(configuration.librdkafkaProperties)
        // A bad topic property fails here, not at the first send.
        for properties in configuration.topicProperties.values {
            do throws(KafkaError) { rd_kafka_topic_conf_destroy(try makeTopicConf(properties, over: nil)) } catch {
                rd_kafka_conf_destroy(conf)
                throw error
            }
        }
        topicProperties = configuration.topicProperties
        client = try KafkaClient(RD_KAFKA_PRODUCER, conf: conf, logger: logger, label: "producer")
        let (stream, continuation) = AsyncStream.makeStream(of: DeliveryReport.self)
        deliveryReports = stream
        state = DeliveryState(rk: client.rk, reports: configuration.perMessageDeliveryReports ? continuation : nil)
        if !configuration.perMessageDeliveryReports { continuation.finish() }
        isTransactional = configuration.transactionalID != nil || configuration.properties["transactional.id"] != nil
        client.onDeliveryEvent = { [state] event in state.process(event) }
        client.start()
    }

    deinit {
        client.shutdownDetached()
        state.finish()
    }

    /// Enqueues a message without waiting. `partition` nil = partitioner picks (by key);
    /// `value` nil = tombstone. Returns the id its `DeliveryReport` will carry.
    /// Throws `queueFull` when librdkafka's queue is full (see `send`, which waits instead),
    /// or the instance's fatal error.
    @discardableResult
    public func trySend(
        topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?,
        headers: [KafkaHeader] = []
    ) throws(KafkaError) -> UInt64 {
        try trySend(to: self.topic(topic), partition: partition, key: key, value: value, headers: headers)
    }

    /// `trySend` with a topic handle (skips the name lookup).
    @discardableResult
    public func trySend(
        to topic: KafkaTopic, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?,
        headers: [KafkaHeader] = []
    ) throws(KafkaError) -> UInt64 {
        try client.checkOpen()
        let id = state.nextID.add(1, ordering: .relaxed).newValue
        let opaque = UnsafeMutableRawPointer(bitPattern: UInt(id))
        let partition = partition ?? RD_KAFKA_PARTITION_UA
        let err = withOptionalBytes(key) { k in
            withOptionalBytes(value) { v in
                if headers.isEmpty {
                    // rd_kafka_produce copies the bytes (F_COPY); it never writes them.
                    let r = rd_kafka_produce(
                        topic.rkt, partition, RD_KAFKA_MSG_F_COPY,
                        UnsafeMutableRawPointer(mutating: v?.baseAddress), v?.count ?? 0,
                        k?.baseAddress, k?.count ?? 0, opaque)
                    return r == 0 ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_last_error()
                }
                return shim_produce(
                    client.rk, topic.rkt, partition, k?.baseAddress, k?.count ?? 0,
                    v?.baseAddress, v?.count ?? 0, makeCHeaders(headers), opaque)
            }
        }
        // Now and then the sender serves delivery reports itself (never waiting): messages are
        // then freed by the thread that allocated them, which spares malloc cross-thread frees.
        if id & 1023 == 0 { client.serveEvents() }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            state.rejected.add(1, ordering: .relaxed)
            if err == RD_KAFKA_RESP_ERR__FATAL, let fatal = client.fatalError { throw fatal }
            throw KafkaError(err)
        }
        return id
    }

    /// The handle for `name` (created once, then cached).
    public func topic(_ name: String) throws(KafkaError) -> KafkaTopic {
        if let topic = topics.withLock({ $0[name] }) { return topic }
        try client.checkOpen()
        // rd_kafka_topic_new takes ownership of the topic configuration (and ignores it for a
        // topic the instance already knows: this cache is the only place that makes handles).
        let conf = try topicProperties[name].map { properties throws(KafkaError) in
            try makeTopicConf(properties, over: client.rk)
        }
        guard let rkt = rd_kafka_topic_new(client.rk, name, conf) else {
            throw KafkaError(
                rd_kafka_last_error(), message: "topic \(name): \(KafkaErrorCode(rd_kafka_last_error()).name)")
        }
        let topic = KafkaTopic(name: name, rkt: rkt, client: client)
        return topics.withLock { topics in
            if let existing = topics[name] { return existing }
            topics[name] = topic
            return topic
        }
    }

    /// Enqueues a message with a topic handle, waiting while librdkafka's queue is full.
    @discardableResult
    public func send(
        to topic: KafkaTopic, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?,
        headers: [KafkaHeader] = []
    ) async throws(KafkaError) -> UInt64 {
        while true {
            do {
                return try trySend(to: topic, partition: partition, key: key, value: value, headers: headers)
            } catch  where error.code == .queueFull {
                await state.waitForSpace()
            }
        }
    }

    /// Enqueues a message, waiting (without blocking a thread) while librdkafka's queue is full.
    @discardableResult
    public func send(
        topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?,
        headers: [KafkaHeader] = []
    ) async throws(KafkaError) -> UInt64 {
        try await send(to: self.topic(topic), partition: partition, key: key, value: value, headers: headers)
    }

    /// Waits until every message sent so far is delivered or failed, then throws the first
    /// delivery error since the previous flush (and forgets it).
    public func flush(timeout: Duration = .seconds(60)) async throws(KafkaError) {
        try client.checkOpen()
        let target = state.accepted
        let ms = timeout.milliseconds
        let err = await client.perform { [client] in rd_kafka_flush(client.rk, ms) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, message: "flush: \(KafkaErrorCode(err).name)") }
        await state.waitForCompletion(of: target)
        if let error = state.takeFirstError() { throw error }
    }

    /// From now on remembers the highest offset delivered per partition of `topic` (one topic
    /// per producer; the last one asked for).
    public func trackDeliveredOffsets(of topic: String) throws(KafkaError) {
        state.track(try self.topic(topic).rkt)
    }

    /// The highest offset delivered to `partition` of the tracked topic; nil: none yet.
    public func lastDeliveredOffset(partition: Int32) -> Int64? {
        state.trackedOffsets[partition]
    }

    /// The fatal error this producer raised (e.g. fenced), if any: it is then unusable and must
    /// be recreated.
    public var fatalError: KafkaError? { client.fatalError }

    /// Number of messages enqueued and not yet reported.
    public var outstanding: UInt64 { state.accepted &- state.completedCount }

    /// Flushes (up to `timeout`), then destroys the instance. The producer is unusable afterwards.
    public func shutdown(timeout: Duration = .seconds(30)) async {
        if !client.isShutDown {
            do { try await flush(timeout: timeout) } catch { client.logger.warning("flush on shutdown: \(error)") }
        }
        await client.shutdownAsync()
        state.finish()
    }
}

/// Headers in librdkafka's form (ownership passes to shim_produce).
private func makeCHeaders(_ headers: [KafkaHeader]) -> OpaquePointer? {
    let cHeaders = rd_kafka_headers_new(headers.count)
    for header in headers {
        if let value = header.value {
            value.withUnsafeBytes { _ = rd_kafka_header_add(cHeaders, header.key, -1, $0.baseAddress, $0.count) }
        } else {
            _ = rd_kafka_header_add(cHeaders, header.key, -1, nil, 0)
        }
    }
    return cHeaders
}

func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}

extension Duration {
    /// Whole milliseconds, clamped to Int32 (librdkafka timeouts).
    var milliseconds: Int32 {
        let (s, atto) = components
        let ms = s * 1000 + atto / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }
}
