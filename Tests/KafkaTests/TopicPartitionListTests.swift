import CKafkaShim
@testable import Kafka
import Testing

/// The owning wrapper of librdkafka's partition lists, without a broker.
@Suite struct TopicPartitionListTests {
    @Test func offsetsComeBackInOrderWithTheirTopicsAndPartitions() {
        let entries = [
            TopicPartitionOffset("a", 3, offset: 42), TopicPartitionOffset("b", 0, offset: -2),
            TopicPartitionOffset("a", 1, offset: 0),
        ]
        let list = TopicPartitionList(entries)
        // Read out first: the expectation macros need copyable operands.
        let (offsets, partitions, isEmpty, firstError) = (list.offsets, list.partitions, list.isEmpty, list.firstError)
        #expect(offsets == entries)
        #expect(partitions == entries.map(\.topicPartition))
        #expect(!isEmpty)
        #expect(firstError == nil)
    }

    @Test func partitionsWithoutOffsetsCarryTheInvalidOffset() {
        let list = TopicPartitionList([TopicPartition("t", 0), TopicPartition("t", 1)])
        let offsets = list.offsets.map(\.offset)
        let emptyIsEmpty = TopicPartitionList([TopicPartition]()).isEmpty
        #expect(offsets == [Int64(RD_KAFKA_OFFSET_INVALID), Int64(RD_KAFKA_OFFSET_INVALID)])
        #expect(emptyIsEmpty)
    }

    @Test func theFirstPartitionErrorNamesItsPartition() throws {
        let list = TopicPartitionList([TopicPartition("t", 0), TopicPartition("t", 1), TopicPartition("t", 2)])
        list.withListPointer { p in
            p.pointee.elems[1].err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
            p.pointee.elems[2].err = RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION
        }
        let firstError = list.firstError
        let error = try #require(firstError)
        #expect(error.code == .unknownTopicOrPartition)
        #expect(error.message.hasPrefix("t[1]: "))
    }

    @Test func aCopyOwnsItsOwnEntries() {
        let original = TopicPartitionList([TopicPartitionOffset("t", 0, offset: 5)])
        let copy = original.withListPointer { TopicPartitionList(copying: $0) }
        original.withListPointer { $0.pointee.elems[0].offset = 9 }
        let (copied, changed) = (copy.offsets, original.offsets)
        #expect(copied == [TopicPartitionOffset("t", 0, offset: 5)])
        #expect(changed == [TopicPartitionOffset("t", 0, offset: 9)])
    }
}
