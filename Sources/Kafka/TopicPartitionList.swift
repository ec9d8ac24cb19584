import CKafkaShim

/// An owned `rd_kafka_topic_partition_list_t`: created (or adopted) in `init`, destroyed in
/// `deinit`, lent to librdkafka only inside `withListPointer`. Non-copyable, so exactly one
/// owner destroys each list and none is used after that; every C partition list of the Kafka
/// layer goes through it.
struct TopicPartitionList: ~Copyable {
    private let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    /// A list of `partitions` at their offsets.
    init(_ partitions: [TopicPartitionOffset]) {
        // Never NULL: librdkafka aborts on allocation failure.
        pointer = rd_kafka_topic_partition_list_new(Int32(partitions.count))
        for p in partitions {
            rd_kafka_topic_partition_list_add(pointer, p.topic, p.partition).pointee.offset = p.offset
        }
    }

    /// A list of `partitions` without offsets (`RD_KAFKA_OFFSET_INVALID`).
    init(_ partitions: [TopicPartition]) {
        self.init(
            partitions.map { TopicPartitionOffset($0.topic, $0.partition, offset: Int64(RD_KAFKA_OFFSET_INVALID)) })
    }

    /// Takes ownership of a list librdkafka handed out (an assignment, a copy).
    init(adopting pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        self.pointer = pointer
    }

    /// A copy of a list librdkafka still owns (e.g. the one a callback is given).
    init(copying list: UnsafePointer<rd_kafka_topic_partition_list_t>) {
        pointer = rd_kafka_topic_partition_list_copy(list)
    }

    /// The consumer's current assignment.
    static func assignment(of rk: OpaquePointer) throws(KafkaError) -> TopicPartitionList {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        try KafkaError.check(rd_kafka_assignment(rk, &list))
        guard let list else { return TopicPartitionList([TopicPartitionOffset]()) }
        return TopicPartitionList(adopting: list)
    }

    deinit { rd_kafka_topic_partition_list_destroy(pointer) }

    /// Lends the list to librdkafka for the duration of `body` (which must not keep it).
    func withListPointer<T: ~Copyable, E: Error>(
        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws(E) -> T
    ) throws(E) -> T {
        try body(pointer)
    }

    var isEmpty: Bool { pointer.pointee.cnt == 0 }

    /// The entries with their offsets (which librdkafka fills in for committed/position).
    var offsets: [TopicPartitionOffset] {
        guard let elems = pointer.pointee.elems else { return [] }
        return (0..<Int(pointer.pointee.cnt)).map { i in
            TopicPartitionOffset(String(cString: elems[i].topic), elems[i].partition, offset: elems[i].offset)
        }
    }

    var partitions: [TopicPartition] { offsets.map(\.topicPartition) }

    /// The first per-partition error librdkafka recorded in the list, if any.
    var firstError: KafkaError? {
        guard let elems = pointer.pointee.elems else { return nil }
        for i in 0..<Int(pointer.pointee.cnt) where elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let name = "\(String(cString: elems[i].topic))[\(elems[i].partition)]"
            return KafkaError(elems[i].err, message: "\(name): \(String(cString: rd_kafka_err2str(elems[i].err)))")
        }
        return nil
    }
}
