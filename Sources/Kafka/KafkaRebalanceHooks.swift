/// Application hooks around a rebalance, run inside `KafkaConsumer.poll` (in the polling task):
/// `beforeRevoke` while the partitions are still assigned (flush, commit, finish a transaction),
/// `afterAssign` once the new partitions are assigned (restore state). Works for both the eager
/// and the cooperative protocol (cooperative: only the partitions that move).
public struct KafkaRebalanceHooks: Sendable {
    /// `lost`: the partitions were already lost (session expired); committing will fail.
    public var beforeRevoke: @Sendable (_ partitions: [TopicPartition], _ lost: Bool) async -> Void
    public var afterAssign: @Sendable (_ partitions: [TopicPartition]) async -> Void

    public init(
        beforeRevoke: @escaping @Sendable ([TopicPartition], Bool) async -> Void = { _, _ in },
        afterAssign: @escaping @Sendable ([TopicPartition]) async -> Void = { _ in }
    ) {
        self.beforeRevoke = beforeRevoke
        self.afterAssign = afterAssign
    }
}
