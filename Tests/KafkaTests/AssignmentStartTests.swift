import CKafkaShim
@testable import Kafka
import Testing
import TestSupport

/// Where an assigned partition starts: its committed offset, else the `auto.offset.reset`
/// position, given to librdkafka as absolute offsets with the assignment (so it does not back
/// off 100 or 500 ms to look them up itself).
@Suite struct AssignmentStartTests {
    @Test func anAssignmentStartsAtTheCommittedOffsetOrTheResetPosition() async throws {
        let broker = try sharedBroker()
        let topic = unique("start")
        let group = unique("start-group")
        try broker.createTopic(topic, partitions: 2)
        let producer = try producer(broker)
        for p: Int32 in [0, 1] {
            for i in 0..<10 { try await producer.send(topic: topic, partition: p, key: nil, value: Array("\(i)".utf8)) }
        }
        try await producer.flush()
        await producer.shutdown()

        // A first member commits partition 0 at offset 4 and leaves.
        let first = try consumer(broker, group: group, topics: [topic])
        try await eventually("the first member's assignment", within: .seconds(30), every: .zero) {
            _ = try await first.poll(timeout: .milliseconds(50))
            return try first.assignment().count == 2
        }
        try await first.commit([TopicPartitionOffset(topic, 0, offset: 4)])
        await first.close()

        let second = try consumer(broker, group: group, topics: [topic])
        var firstOffsets: [Int32: Int64] = [:]
        try await eventually("a message from each partition", within: .seconds(30), every: .zero) {
            for m in try await second.poll(timeout: .milliseconds(50)) where firstOffsets[m.partition] == nil {
                firstOffsets[m.partition] = m.offset
            }
            return firstOffsets.count == 2
        }
        let assigned = try TopicPartitionList.assignment(of: second.client.rk).offsets
        await second.close()
        #expect(
            Set(assigned)
                == [
                    TopicPartitionOffset(topic, 0, offset: 4),
                    TopicPartitionOffset(topic, 1, offset: 0),  // the earliest offset, not BEGINNING (-2)
                ])
        #expect(firstOffsets == [0: 4, 1: 0])
    }

    @Test func resetPoliciesMapToLibrdkafkasLogicalOffsets() {
        for name in ["smallest", "earliest", "beginning"] {
            #expect(RebalanceCallback.logicalOffset(autoOffsetReset: name) == Int64(RD_KAFKA_OFFSET_BEGINNING))
        }
        for name in ["largest", "latest", "end"] {
            #expect(RebalanceCallback.logicalOffset(autoOffsetReset: name) == Int64(RD_KAFKA_OFFSET_END))
        }
        // `error`: librdkafka's own lookup, which reports the missing offset.
        #expect(RebalanceCallback.logicalOffset(autoOffsetReset: "error") == nil)
    }
}
