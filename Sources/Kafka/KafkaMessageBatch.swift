import CKafkaShim

/// Messages returned by one `KafkaConsumer.poll`, held in librdkafka's own buffers: `key` and
/// `value` point into them without copying and stay valid until the batch is released (the
/// last reference dropped). Use `KafkaMessageView.owned()` to keep a message longer.
public final class KafkaMessageBatch: RandomAccessCollection, @unchecked Sendable {
    private let messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>
    private let capacity: Int
    public let count: Int
    /// Consumer errors librdkafka delivered in place of messages (logged; librdkafka recovers by itself).
    public let errors: [KafkaError]

    /// Takes ownership of the first `n` messages of `buffer` (capacity `capacity`); error
    /// messages are moved out into `errors` and destroyed.
    init(buffer: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>, capacity: Int, n: Int) {
        messages = buffer
        self.capacity = capacity
        var kept = 0
        var errors: [KafkaError] = []
        for i in 0..<n {
            guard let m = buffer[i] else { continue }
            if m.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                errors.append(
                    KafkaError(m.pointee.err, message: rd_kafka_message_errstr(m).map { String(cString: $0) }))
                rd_kafka_message_destroy(m)
            } else {
                buffer[kept] = m
                kept += 1
            }
        }
        count = kept
        self.errors = errors
    }

    deinit {
        for i in 0..<count { rd_kafka_message_destroy(messages[i]) }
        messages.deallocate()
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> KafkaMessageView {
        precondition(position >= 0 && position < count, "index out of range")
        return KafkaMessageView(message: messages[position].unsafelyUnwrapped)  // slots < count are non-nil (init)
    }

    /// The next offset to read per partition after this batch (last offset + 1), for commits.
    public var nextOffsets: [TopicPartitionOffset] {
        var latest: [TopicPartition: Int64] = [:]
        for m in self {
            latest[TopicPartition(m.topic, m.partition), default: -1] = Swift.max(
                latest[TopicPartition(m.topic, m.partition), default: -1], m.offset)
        }
        return latest.map { TopicPartitionOffset($0.key.topic, $0.key.partition, offset: $0.value + 1) }
    }
}

/// A message inside a `KafkaMessageBatch`; valid only while the batch is alive.
public struct KafkaMessageView {
    let message: UnsafeMutablePointer<rd_kafka_message_t>

    public var topic: String { String(cString: rd_kafka_topic_name(message.pointee.rkt)) }
    /// The same for every message of one topic in one consumer: lets hot loops look the topic
    /// up instead of building `topic` per message.
    public var topicHandle: OpaquePointer { message.pointee.rkt }
    public var partition: Int32 { message.pointee.partition }
    public var offset: Int64 { message.pointee.offset }
    /// nil when the message has no key.
    public var key: UnsafeRawBufferPointer? {
        message.pointee.key.map { UnsafeRawBufferPointer(start: $0, count: message.pointee.key_len) }
    }
    /// nil for a tombstone (null value).
    public var value: UnsafeRawBufferPointer? {
        message.pointee.payload.map { UnsafeRawBufferPointer(start: $0, count: message.pointee.len) }
    }
    /// Milliseconds since the epoch, nil when not available.
    public var timestamp: Int64? {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(message, &type)
        return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts
    }
    /// The record headers (copied).
    public var headers: [KafkaHeader] {
        var hdrs: OpaquePointer?
        guard rd_kafka_message_headers(message, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs else { return [] }
        var result: [KafkaHeader] = []
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        var i = 0
        while rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
            result.append(KafkaHeader(name.map { String(cString: $0) } ?? "", bytes))
            i += 1
        }
        return result
    }

    /// An owned copy that outlives the batch.
    public func owned() -> KafkaMessage {
        KafkaMessage(
            topic: topic, partition: partition, offset: offset, key: key.map { Array($0) },
            value: value.map { Array($0) }, headers: headers, timestamp: timestamp)
    }
}
