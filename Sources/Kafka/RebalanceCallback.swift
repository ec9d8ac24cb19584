import CKafkaShim
import Synchronization

/// A consumer's rebalance callback and the state it shares with the consumer.
///
/// Who touches the state, from which thread: librdkafka calls the callback only from inside a
/// call that serves the consumer queue or closes the consumer, on the calling thread, never on
/// a librdkafka thread — `rd_kafka_consume_batch_queue` and `rd_kafka_consumer_close` on the
/// client's blocking queue, or `rd_kafka_destroy` on the destroying thread for a consumer never
/// closed. The consumer takes and applies the recorded event (`takePending`, `apply`) and starts
/// closing (`beginClosing`) on the blocking queue. All of it is behind one mutex, which is never
/// held across a librdkafka call.
final class RebalanceCallback: Sendable {
    private struct State {
        /// The event waiting for the polling task; one at a time, as the callback yields the
        /// consume call that raised it.
        var pending: PendingRebalance?
        /// Set at close: from then on the callback applies librdkafka's default by itself, as
        /// `rd_kafka_consumer_close` requires.
        var closing = false
        /// The rebalance protocol seen at the last event outside close.
        var cooperative = false
    }

    private let state = Mutex(State())
    /// Where a partition without a committed offset starts (`auto.offset.reset` as a logical
    /// offset); nil leaves that to librdkafka (`error`).
    private let resetOffset: Int64?

    /// `autoOffsetReset`: the consumer's `auto.offset.reset` (librdkafka's default when nil).
    init(autoOffsetReset: String?) {
        resetOffset = Self.logicalOffset(autoOffsetReset: autoOffsetReset ?? "largest")
    }

    /// librdkafka's names of `auto.offset.reset`, as the logical offset each starts at.
    static func logicalOffset(autoOffsetReset: String) -> Int64? {
        switch autoOffsetReset {
        case "smallest", "earliest", "beginning": Int64(RD_KAFKA_OFFSET_BEGINNING)
        case "largest", "latest", "end": Int64(RD_KAFKA_OFFSET_END)
        default: nil
        }
    }

    /// Installs the callback on `conf`. `self` must outlive the handle made from `conf`
    /// (`KafkaClient` keeps it until `rd_kafka_destroy` has returned).
    func install(on conf: OpaquePointer) {
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
    }

    /// The event the callback recorded, if any (taken: the caller applies it).
    func takePending() -> PendingRebalance? {
        state.withLock { $0.pending.take() }
    }

    /// From now on every event gets librdkafka's default at once.
    func beginClosing() {
        state.withLock { $0.closing = true }
    }

    /// Applies librdkafka's default for `event`; an assignment starts from the committed offsets
    /// looked up first (`startAtCommittedOffsets`).
    func apply(_ event: PendingRebalance, rk: OpaquePointer) throws(KafkaError) {
        try event.list.withListPointer { list throws(KafkaError) in
            if !event.isRevoke { startAtCommittedOffsets(list, rk: rk) }
            try applyDefault(rk: rk, err: event.err, partitions: list)
        }
    }

    /// Gives each assigned partition the offset it starts at: its committed offset, or the
    /// `auto.offset.reset` position when it has none, as absolute offsets.
    ///
    /// librdkafka 2.0.2 waits 100 ms before it looks up the reset position of a partition with no
    /// committed offset (`rd_kafka_offset_reset` backs off when called for a missing offset), so a
    /// new group fetched its first message ~100 ms after its assignment. The lookups here are the
    /// requests librdkafka would make: `rd_kafka_committed` (OffsetFetch, stable offsets only under
    /// read_committed), then for the partitions without a committed offset one ListOffsets for the
    /// earliest (-2) or latest (-1) offset (`rd_kafka_offsets_for_times` takes those as special
    /// timestamps). Absolute offsets matter: a logical one makes librdkafka query it at once, and
    /// when the partition has not joined its leader's thread yet it retries only after 500 ms.
    /// A partition the lookups cannot answer for is assigned without an offset, and librdkafka
    /// looks it up itself as before.
    private func startAtCommittedOffsets(
        _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>, rk: OpaquePointer
    ) {
        guard let reset = resetOffset, list.pointee.cnt > 0, let elems = list.pointee.elems,
            let committed = rd_kafka_topic_partition_list_copy(list)
        else { return }
        defer { rd_kafka_topic_partition_list_destroy(committed) }
        guard rd_kafka_committed(rk, committed, Self.lookupMs) == RD_KAFKA_RESP_ERR_NO_ERROR else { return }
        // INVALID (what a group assignment carries) and STORED both mean "the committed offset".
        let unset = [Int64(RD_KAFKA_OFFSET_INVALID), Int64(RD_KAFKA_OFFSET_STORED)]
        var resetIndices: [Int] = []
        for i in 0..<Int(list.pointee.cnt) where unset.contains(elems[i].offset) {
            guard let found = rd_kafka_topic_partition_list_find(committed, elems[i].topic, elems[i].partition),
                found.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR
            else { continue }
            if found.pointee.offset >= 0 { elems[i].offset = found.pointee.offset } else { resetIndices.append(i) }
        }
        guard !resetIndices.isEmpty, let positions = rd_kafka_topic_partition_list_new(Int32(resetIndices.count))
        else { return }
        defer { rd_kafka_topic_partition_list_destroy(positions) }
        for i in resetIndices {
            rd_kafka_topic_partition_list_add(positions, elems[i].topic, elems[i].partition).pointee.offset = reset
        }
        guard rd_kafka_offsets_for_times(rk, positions, Self.lookupMs) == RD_KAFKA_RESP_ERR_NO_ERROR else { return }
        for i in resetIndices {
            guard let found = rd_kafka_topic_partition_list_find(positions, elems[i].topic, elems[i].partition),
                found.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR, found.pointee.offset >= 0
            else { continue }
            elems[i].offset = found.pointee.offset
        }
    }

    /// How long an assignment waits for each lookup before leaving the offsets to librdkafka.
    static let lookupMs: Int32 = 10_000

    /// Assigns or unassigns, incrementally under the cooperative protocol.
    private func applyDefault(
        rk: OpaquePointer, err: rd_kafka_resp_err_t,
        partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
    ) throws(KafkaError) {
        let cooperative = state.withLock { $0.cooperative }
        switch (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS, cooperative) {
        case (true, true): try KafkaError.check(rd_kafka_incremental_assign(rk, partitions))
        case (true, false): try KafkaError.check(rd_kafka_assign(rk, partitions))
        case (false, true): try KafkaError.check(rd_kafka_incremental_unassign(rk, partitions))
        case (false, false): try KafkaError.check(rd_kafka_assign(rk, nil))
        }
    }

    /// Records the event and yields the consume call, so that the polling task runs the
    /// application's hooks before the partitions move. At close (or for an unexpected second
    /// event) it applies librdkafka's default instead, so nothing waits on a hook.
    fileprivate func handle(
        rk: OpaquePointer, err: rd_kafka_resp_err_t,
        partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
    ) {
        let closing = state.withLock { $0.closing }
        if !closing {
            // Asked only outside close: rd_kafka_rebalance_protocol can hang once the consumer
            // is closing (librdkafka issue #4041).
            let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
            state.withLock { $0.cooperative = cooperative }
        }
        let busy = state.withLock { $0.pending != nil }
        guard !closing, !busy, let partitions else {
            try? applyDefault(rk: rk, err: err, partitions: partitions)
            return
        }
        let event = PendingRebalance(
            err: err, list: TopicPartitionList(copying: partitions),
            lost: rd_kafka_assignment_lost(rk) != 0)
        state.withLock { $0.pending = event }
        rd_kafka_yield(rk)
    }
}

/// librdkafka's rebalance callback: hands the event to the `RebalanceCallback` that the
/// configuration's opaque points to.
private func rebalanceCallback(
    rk: OpaquePointer?, err: rd_kafka_resp_err_t,
    partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    opaque: UnsafeMutableRawPointer?
) {
    guard let rk, let opaque else { return }
    Unmanaged<RebalanceCallback>.fromOpaque(opaque).takeUnretainedValue().handle(
        rk: rk, err: err, partitions: partitions)
}
