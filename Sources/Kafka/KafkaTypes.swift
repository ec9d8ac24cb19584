import CKafkaShim

/// A topic partition.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    public var description: String { "\(topic)[\(partition)]" }
}

/// A partition with an offset. For commits the offset is the NEXT offset to read
/// (last processed + 1), as Kafka defines it.
public struct TopicPartitionOffset: Hashable, Sendable, CustomStringConvertible {
    public var topicPartition: TopicPartition
    public var offset: Int64
    public init(_ topic: String, _ partition: Int32, offset: Int64) {
        topicPartition = TopicPartition(topic, partition)
        self.offset = offset
    }
    public var topic: String { topicPartition.topic }
    public var partition: Int32 { topicPartition.partition }
    public var description: String { "\(topicPartition)@\(offset)" }
}

/// A record header; a nil value is a header with a null value.
public struct KafkaHeader: Hashable, Sendable {
    public var key: String
    public var value: [UInt8]?
    public init(_ key: String, _ value: [UInt8]?) {
        self.key = key
        self.value = value
    }
    public init(_ key: String, _ value: String) { self.init(key, Array(value.utf8)) }
}

/// An owned copy of a consumed record.
public struct KafkaMessage: Hashable, Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    /// nil for a tombstone.
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Milliseconds since the epoch, nil when not available.
    public var timestamp: Int64?
}

/// The outcome of one produced message.
public struct DeliveryReport: Sendable {
    /// The id `KafkaProducer.send` returned for the message.
    public var id: UInt64
    public var topic: String
    public var partition: Int32
    /// Offset in the partition; -1 when unknown (error, or not reported).
    public var offset: Int64
    /// nil when delivered.
    public var error: KafkaError?
}

/// Kafka protocol API keys, for request fault injection on the embedded broker.
public enum KafkaAPIKey: Int16, Sendable {
    case produce = 0, fetch = 1, listOffsets = 2, metadata = 3
    case offsetCommit = 8, offsetFetch = 9, findCoordinator = 10, joinGroup = 11, heartbeat = 12
    case leaveGroup = 13, syncGroup = 14, initProducerId = 22, addPartitionsToTxn = 24
    case addOffsetsToTxn = 25, endTxn = 26, txnOffsetCommit = 28
}
