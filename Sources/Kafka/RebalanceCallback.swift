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

    /// Applies librdkafka's default for `event`.
    func apply(_ event: PendingRebalance, rk: OpaquePointer) throws(KafkaError) {
        try event.list.withListPointer { list throws(KafkaError) in
            try applyDefault(rk: rk, err: event.err, partitions: list)
        }
    }

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
