import CKafkaShim
import Synchronization

/// Works around librdkafka 2.0.2's fetch stall (issue #2879, fixed in 2.4 by
/// `fetch.queue.backoff.ms`): once the consumer queue passes `queued.min.messages` or
/// `queued.max.messages.kbytes`, every partition forwarded to it stops fetching, and nothing
/// restarts the fetchers when the application drains the queue; their broker threads look
/// again only when their 1 s idle timer fires. A consumer slower than its brokers thus loses
/// up to a second after every fill-up.
///
/// When a poll saw the queue near a limit and leaves it empty, the consumer seeks its
/// partitions to where their reading goes on (`restartOffsets`): a seek wakes the partition's
/// broker thread. The queue is empty, so nothing is discarded but fetches already in flight,
/// which are fetched again.
///
/// A fetch response can also carry the queue past a limit between two polls, and the polls then
/// never see it near one. So the queue staying empty for `idleRestart` while a partition is known
/// to hold more (its last fetched high watermark past its position) restarts the fetchers too;
/// the wait doubles after each restart that brings nothing (an open transaction in the input, say),
/// up to librdkafka's own second. Seen in `bench worker`: 817 ms without input while 41,000
/// updates waited, in about one exactly-once run in four.
struct FetchRestart {
    private let minMessages: Double
    private let maxBytes: Double
    private var bytesPerMessage = 512.0
    private var nearLimit = false
    /// When the queue was first seen empty in the current run of empty polls.
    private var emptySince: ContinuousClock.Instant?
    private var idleWait = Self.idleRestart

    /// How long an empty queue is left alone while data waits: a few fetch round trips.
    static let idleRestart = Duration.milliseconds(20)
    static let longestIdleWait = Duration.seconds(1)

    init(minMessages: Int, maxBytes: Int) {
        self.minMessages = Double(minMessages)
        self.maxBytes = Double(maxBytes)
    }

    /// Reads the thresholds from the consumer's configuration.
    init(rk: OpaquePointer) {
        self.init(
            minMessages: Self.setting(rk, "queued.min.messages") ?? 100_000,
            maxBytes: (Self.setting(rk, "queued.max.messages.kbytes") ?? 65_536) * 1024)
    }

    /// Called after each poll of the consumer queue; true when the fetchers should be restarted.
    mutating func observe(queuedBefore: Int, polled: Int, polledBytes: Int, queuedAfter: Int) -> Bool {
        if polled > 0 || queuedAfter > 0 {
            emptySince = nil
            idleWait = Self.idleRestart
        }
        if polled > 0 { bytesPerMessage = 0.8 * bytesPerMessage + 0.2 * Double(polledBytes) / Double(polled) }
        // 3/4: the byte size is an estimate, and the limits are checked only between fetches.
        if Double(queuedBefore) >= 0.75 * minMessages || Double(queuedBefore) * bytesPerMessage >= 0.75 * maxBytes {
            nearLimit = true
        }
        guard nearLimit, queuedAfter == 0 else { return false }
        nearLimit = false
        return true
    }

    /// Called after a poll that found the queue empty; true when it has stayed empty for the idle
    /// wait and `hasDataToFetch` says a partition holds more.
    mutating func observeEmpty(at now: ContinuousClock.Instant, hasDataToFetch: () -> Bool) -> Bool {
        guard let since = emptySince else {
            emptySince = now
            return false
        }
        guard now - since >= idleWait, hasDataToFetch() else { return false }
        emptySince = now
        idleWait = min(idleWait * 2, Self.longestIdleWait)
        return true
    }

    /// Whether an assigned partition for which `include` holds may have more to fetch, from its
    /// position and its watermarks as last fetched (no request is made; see `mayHoldMore`).
    static func hasDataToFetch(rk: OpaquePointer, where include: (TopicPartition) -> Bool) -> Bool {
        guard let assigned = try? TopicPartitionList.assignment(of: rk) else { return false }
        _ = assigned.withListPointer { rd_kafka_position(rk, $0) }
        let partitions = assigned.offsets.filter { include($0.topicPartition) }.map { p in
            var low: Int64 = -1, high: Int64 = -1
            let known = rd_kafka_get_watermark_offsets(rk, p.topic, p.partition, &low, &high)
            return (
                position: p.offset >= 0 ? p.offset : nil,
                low: known == RD_KAFKA_RESP_ERR_NO_ERROR ? low : -1,
                high: known == RD_KAFKA_RESP_ERR_NO_ERROR ? high : -1
            )
        }
        return mayHoldMore(partitions)
    }

    /// A partition with a position may hold more when its high watermark is past it. One with no
    /// position yet (nothing consumed since it was assigned) may hold more unless its last fetch
    /// showed it empty: its fetcher can have backed off before its first answer because the queue
    /// was full (seen in `bench worker` with 30,000-update batches: ~500 ms without input while
    /// only partitions without a position held the rest). Partitions without one count only
    /// beside one that has it: a worker restarted at the end of its input, none of whose
    /// partitions has a position, would otherwise restart for nothing every second. Watermarks
    /// are -1 when unknown.
    static func mayHoldMore(_ partitions: [(position: Int64?, low: Int64, high: Int64)]) -> Bool {
        var anyPositioned = false, unfetchedWaits = false
        for p in partitions {
            if let position = p.position {
                if p.high > position { return true }
                anyPositioned = true
            } else if p.high < 0 || p.high > p.low {
                unfetchedWaits = true
            }
        }
        return anyPositioned && unfetchedWaits
    }

    /// Seeks every assigned partition for which `include` holds to where its reading goes on.
    /// Asynchronous; errors (a partition just revoked) are harmless and ignored. Callers leave
    /// paused partitions out: a seek there clears the position. `sought` holds the offset of
    /// each partition's last seek (this is the consumer's only seek); `restartOffsets` says why.
    static func restart(
        rk: OpaquePointer, sought: borrowing Mutex<[TopicPartition: Int64]>, where include: (TopicPartition) -> Bool
    ) {
        guard let assigned = try? TopicPartitionList.assignment(of: rk) else { return }
        let assignedAt = assigned.offsets
        _ = assigned.withListPointer { rd_kafka_position(rk, $0) }
        let positions = assigned.offsets
        let seek = TopicPartitionList(
            sought.withLock {
                restartOffsets(assignedAt: assignedAt, positions: positions, sought: &$0, where: include)
            })
        guard !seek.isEmpty else { return }
        seek.withListPointer { if let error = rd_kafka_seek_partitions(rk, $0, 0) { rd_kafka_error_destroy(error) } }
    }

    /// Where each partition's reading goes on: its position; without one, the offset of its last
    /// seek, else the offset it was assigned at. librdkafka 2.0.2 clears a partition's position
    /// on a seek (#3567) until a message of the new fetch is consumed, so no position means
    /// nothing was consumed since that seek (or since the assignment). Seeking only partitions
    /// with a position missed a broker whose partitions had all lost theirs to one restart and
    /// then stopped on the queue limit before delivering anything (the queue was full of the
    /// fetches the seek made outdated): it idled until librdkafka's 1 s timer (`bench worker`
    /// with librdkafka's fetch debug log: 14 partitions, 47 → 1048 ms). Records each seek in
    /// `sought`. Partitions with no offset known at all are left alone.
    static func restartOffsets(
        assignedAt: [TopicPartitionOffset], positions: [TopicPartitionOffset],
        sought: inout [TopicPartition: Int64], where include: (TopicPartition) -> Bool
    ) -> [TopicPartitionOffset] {
        var seek: [TopicPartitionOffset] = []
        for (start, now) in zip(assignedAt, positions) where include(now.topicPartition) {
            let partition = now.topicPartition
            let offset = now.offset >= 0 ? now.offset : (sought[partition] ?? start.offset)
            guard offset >= 0 else { continue }
            sought[partition] = offset
            seek.append(TopicPartitionOffset(partition.topic, partition.partition, offset: offset))
        }
        return seek
    }

    private static func setting(_ rk: OpaquePointer, _ name: String) -> Int? {
        var buffer = [CChar](repeating: 0, count: 64)
        var size = buffer.count
        guard rd_kafka_conf_get(rd_kafka_conf(rk), name, &buffer, &size) == RD_KAFKA_CONF_OK else { return nil }
        return Int(String(cString: buffer))
    }
}
