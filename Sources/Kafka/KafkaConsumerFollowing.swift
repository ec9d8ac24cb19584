import CKafkaShim

/// What a reader that follows whole topics without a group (the read side) needs beyond
/// `assign`: how many partitions a topic has, and which partitions a poll found at their end.
extension KafkaConsumer {
    /// The topic's partition count from the cluster's metadata. Throws the topic's own error
    /// (`UNKNOWN_TOPIC_OR_PART` when missing, `TOPIC_AUTHORIZATION_FAILED` without Describe).
    public func partitionCount(topic: String, timeout: Duration = .seconds(10)) async throws(KafkaError) -> Int32 {
        try client.checkOpen()
        let ms = timeout.milliseconds
        return try await client.run { [client] () throws(KafkaError) -> Int32 in
            // Metadata of all topics: asking for one by name lets a broker (the embedded one
            // does) create it, which would hide a misnamed topic behind an empty one.
            var metadata: UnsafePointer<rd_kafka_metadata>?
            try KafkaError.check(rd_kafka_metadata(client.rk, 1, nil, &metadata, ms))
            defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
            guard let metadata, let topics = metadata.pointee.topics,
                let t = (0..<Int(metadata.pointee.topic_cnt)).lazy.map({ topics[$0] }).first(where: {
                    String(cString: $0.topic) == topic
                })
            else {
                throw KafkaError(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, message: "\(topic): the topic does not exist")
            }
            if t.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(t.err, message: "\(topic): \(String(cString: rd_kafka_err2str(t.err)))")
            }
            guard t.partition_cnt > 0 else {
                throw KafkaError(
                    RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                    message: "\(topic): the topic has no partitions")
            }
            return t.partition_cnt
        }
    }

    /// Like `poll`, for a consumer with a manual assignment and `enable.partition.eof=true`:
    /// also returns each partition the fetcher found at its end in this poll, with the end
    /// offset (for `read_committed`, the last stable offset, past any transaction marker) —
    /// which `poll` reports only as a partition-less error.
    public func pollNoticingEnds(maxMessages: Int = 10_000, timeout: Duration = .milliseconds(100))
        async throws(KafkaError) -> (batch: KafkaMessageBatch, ends: [TopicPartitionOffset])
    {
        try client.checkOpen()
        if let fatal = client.fatalError { throw fatal }
        let ms = timeout.milliseconds
        let capacity = max(1, maxMessages)
        let eof = RD_KAFKA_RESP_ERR__PARTITION_EOF
        return await client.perform { [core] () -> (batch: KafkaMessageBatch, ends: [TopicPartitionOffset]) in
            let queue = core.client.consumerQueue
            let queuedBefore = rd_kafka_queue_length(queue)
            let buffer = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: capacity)
            let n = max(0, rd_kafka_consume_batch_queue(queue, ms, buffer, capacity))
            var ends: [TopicPartitionOffset] = []
            for i in 0..<n {
                guard let m = buffer[i], m.pointee.err == eof, let rkt = m.pointee.rkt else { continue }
                ends.append(
                    TopicPartitionOffset(
                        String(cString: rd_kafka_topic_name(rkt)), m.pointee.partition,
                        offset: m.pointee.offset))
            }
            let batch = KafkaMessageBatch(buffer: buffer, capacity: capacity, n: n)
            core.restartFetchersIfStalled(
                queuedBefore: queuedBefore, batch: batch,
                queuedAfter: rd_kafka_queue_length(queue))
            return (batch, ends)
        }
    }
}
