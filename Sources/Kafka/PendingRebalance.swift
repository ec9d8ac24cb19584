import CKafkaShim

/// A rebalance the callback recorded, for the polling task to apply after the application's
/// hooks. Used from one thread at a time: an assignment's start offsets are written into its
/// list just before it is applied (`RebalanceCallback.apply`).
final class PendingRebalance: @unchecked Sendable {
    let err: rd_kafka_resp_err_t
    let list: TopicPartitionList
    let partitions: [TopicPartition]
    let lost: Bool

    init(err: rd_kafka_resp_err_t, list: consuming TopicPartitionList, lost: Bool) {
        self.err = err
        self.lost = lost
        partitions = list.partitions
        self.list = list
    }

    var isRevoke: Bool { err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS }
}
