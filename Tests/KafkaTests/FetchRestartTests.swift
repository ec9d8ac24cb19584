import CKafkaShim
@testable import Kafka
import Testing
import TestSupport

/// `FetchRestart.observe` outside `#expect`, which cannot take a mutating call.
private func observe(_ r: inout FetchRestart, queuedBefore: Int, polled: Int, polledBytes: Int, queuedAfter: Int)
    -> Bool
{
    r.observe(queuedBefore: queuedBefore, polled: polled, polledBytes: polledBytes, queuedAfter: queuedAfter)
}

@Suite struct FetchRestartTests {
    @Test func restartsOnceTheQueueThatNearedALimitIsEmpty() {
        var r = FetchRestart(minMessages: 1_000, maxBytes: 1 << 20)
        // Far from both limits: never.
        #expect(!observe(&r, queuedBefore: 100, polled: 100, polledBytes: 10_000, queuedAfter: 0))
        // Near the message limit, not yet drained: not yet.
        #expect(!observe(&r, queuedBefore: 800, polled: 500, polledBytes: 50_000, queuedAfter: 300))
        #expect(!observe(&r, queuedBefore: 300, polled: 200, polledBytes: 20_000, queuedAfter: 100))
        // Drained: once.
        #expect(observe(&r, queuedBefore: 100, polled: 100, polledBytes: 10_000, queuedAfter: 0))
        #expect(!observe(&r, queuedBefore: 0, polled: 0, polledBytes: 0, queuedAfter: 0))
    }

    /// A queue left empty while a partition holds more restarts the fetchers after the idle wait,
    /// which doubles while restarts bring nothing and starts again once messages come.
    @Test func anEmptyQueueWithDataWaitingRestartsAfterTheIdleWait() {
        var r = FetchRestart(minMessages: 1_000, maxBytes: 1 << 20)
        let t0 = ContinuousClock.now
        let idle = FetchRestart.idleRestart
        func empty(_ at: Duration, data: Bool = true) -> Bool { r.observeEmpty(at: t0 + at, hasDataToFetch: { data }) }
        #expect(!empty(.zero), "the first empty poll only starts the clock")
        #expect(!empty(idle / 2))
        #expect(!empty(idle, data: false), "nothing to fetch: nothing to restart")
        #expect(empty(idle))
        #expect(!empty(idle * 2), "the next wait is twice as long")
        #expect(empty(idle * 3))
        _ = r.observe(queuedBefore: 0, polled: 10, polledBytes: 1_000, queuedAfter: 0)
        #expect(!empty(idle * 10))
        #expect(empty(idle * 11), "messages came: back to the first wait")
        for i in 0..<20 { _ = empty(idle * 12 + .seconds(i)) }
        #expect(!empty(idle * 12 + .seconds(19) + .milliseconds(999)), "never longer than a second")
        #expect(empty(idle * 12 + .seconds(20)))
    }

    /// What the idle restart counts as data waiting: a position behind the high watermark, or,
    /// beside a partition that has a position (whose seek wakes the fetchers), no position yet on
    /// a partition not known to be empty (its fetcher may have backed off before its first
    /// answer, the queue being full).
    @Test func dataMayWaitBehindAPositionOrOnAPartitionWithNoneYet() {
        let caughtUp = (position: Int64?.some(23_808), low: Int64(0), high: Int64(23_808))
        #expect(!FetchRestart.mayHoldMore([]))
        #expect(!FetchRestart.mayHoldMore([caughtUp]), "caught up")
        #expect(FetchRestart.mayHoldMore([(position: 99, low: 0, high: 100)]))
        #expect(!FetchRestart.mayHoldMore([(position: 100, low: -1, high: -1)]), "a position, watermarks unknown")
        #expect(FetchRestart.mayHoldMore([caughtUp, (position: nil, low: -1, high: -1)]), "never answered yet")
        #expect(FetchRestart.mayHoldMore([caughtUp, (position: nil, low: 0, high: 7_936)]), "nothing consumed")
        #expect(!FetchRestart.mayHoldMore([caughtUp, (position: nil, low: 5, high: 5)]), "known to be empty")
        #expect(
            !FetchRestart.mayHoldMore([(position: nil, low: 0, high: 7_936), (position: nil, low: -1, high: -1)]),
            "no partition has a position (a worker restarted at the end of its input): no seek could wake anything")
    }

    @Test func aRestartSeeksPartitionsWithoutAPositionToTheirLastSeekOrTheirStart() {
        func at(_ p: Int32, _ offset: Int64) -> TopicPartitionOffset { TopicPartitionOffset("t", p, offset: offset) }
        let none = Int64(RD_KAFKA_OFFSET_INVALID)
        // Assigned at 10, 20, 30, 40 and (lookup failed) nothing; 0 and 1 read since, 2 sought to 25
        // by an earlier restart and nothing read since, 3 never read, 4 unknown, 5 excluded (paused).
        let assigned = [at(0, 10), at(1, 20), at(2, 30), at(3, 40), at(4, Int64(RD_KAFKA_OFFSET_STORED)), at(5, 50)]
        let positions = [at(0, 15), at(1, 27), at(2, none), at(3, none), at(4, none), at(5, 55)]
        var sought = [TopicPartition("t", 2): Int64(25), TopicPartition("t", 1): 21]
        let seek = FetchRestart.restartOffsets(
            assignedAt: assigned, positions: positions, sought: &sought, where: { $0.partition != 5 })
        #expect(seek == [at(0, 15), at(1, 27), at(2, 25), at(3, 40)])
        #expect(
            sought == [
                TopicPartition("t", 0): 15, TopicPartition("t", 1): 27, TopicPartition("t", 2): 25,
                TopicPartition("t", 3): 40,
            ])
    }

    @Test func theByteLimitCountsTooFromTheMessagesSeen() {
        var r = FetchRestart(minMessages: 100_000, maxBytes: 1 << 20)
        // 10 KiB messages: 100 queued is ~1 MiB, near the byte limit though far from the count limit.
        for _ in 0..<20 { _ = r.observe(queuedBefore: 10, polled: 10, polledBytes: 102_400, queuedAfter: 5) }
        #expect(!observe(&r, queuedBefore: 100, polled: 50, polledBytes: 512_000, queuedAfter: 50))
        #expect(observe(&r, queuedBefore: 50, polled: 50, polledBytes: 512_000, queuedAfter: 0))
    }
}

/// Consumer queue limits far below one fetch response: librdkafka 2.0.2 alone would idle up to a
/// second after each fill-up, so the consumer's fetch restarts come often.
private let tinyQueue = [
    "queued.min.messages": "100", "queued.max.messages.kbytes": "64",
    "fetch.max.bytes": "65536", "message.max.bytes": "65536", "max.partition.fetch.bytes": "16384",
]

/// Creates `topic` with one partition per count; partition p gets `counts[p]` messages whose
/// values are their sequence number (0, 1, …) padded with 60 `*`.
private func produceNumbered(_ broker: EmbeddedBroker, _ topic: String, counts: [Int]) async throws {
    try broker.createTopic(topic, partitions: Int32(counts.count))
    let producer = try producer(broker)
    for (p, count) in counts.enumerated() {
        for i in 0..<count {
            try await producer.send(
                topic: topic, partition: Int32(p), key: nil,
                value: Array("\(i)".utf8) + [UInt8](repeating: 0x2a, count: 60))
        }
    }
    try await producer.flush()
    await producer.shutdown()
}

@Suite struct FetchRestartConsumptionTests {
    /// With a tiny queue the consumer restarts its fetchers and still gets every message once, in order.
    @Test func aTinyConsumerQueueStillDeliversEveryMessageInOrder() async throws {
        let broker = try sharedBroker()
        let topic = unique("tiny-queue")
        let partitions = 4
        let total = 20_000
        try await produceNumbered(broker, topic, counts: Array(repeating: total / partitions, count: partitions))

        let consumer = try consumer(broker, group: unique("tiny-queue-group"), topics: [topic]) {
            $0.properties.merge(tinyQueue) { $1 }
        }
        var next = [Int](repeating: 0, count: partitions)
        var problems: [String] = []
        var count = 0
        try await eventually("every message", within: groupWaitLimit, every: .zero) {
            let batch = try await consumer.poll(maxMessages: 50)
            for m in batch {
                let p = Int(m.partition)
                let sequence = m.value.flatMap { Int(String(decoding: $0.prefix { $0 != 0x2a }, as: UTF8.self)) }
                if sequence != next[p] {
                    problems.append("p\(p) offset \(m.offset): expected \(next[p]), got \(sequence ?? -1)")
                }
                next[p] += 1
                count += 1
            }
            return count >= total
        }
        await consumer.close()
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(count == total)
        #expect(consumer.fetchRestarts > 0)
    }
}

@Suite struct PauseResumeTests {
    /// A paused partition keeps its position while the fetch restart seeks the others (a seek
    /// there would drop it, and its resume, which seeks to it to fetch at once, would have none),
    /// and after the resume it delivers the rest of its messages once, in order.
    @Test func aPausedPartitionKeepsItsPositionThroughFetchRestartsAndResumesInOrder() async throws {
        let broker = try sharedBroker()
        let topic = unique("pause-resume")
        // Partition 0 keeps the tiny queue filling up (fetch restarts) while partition 1 is paused.
        let counts = [20_000, 3_000]
        try await produceNumbered(broker, topic, counts: counts)

        let consumer = try consumer(broker, group: unique("pause-resume-group"), topics: []) {
            $0.properties.merge(tinyQueue) { $1 }
        }
        try consumer.assign([TopicPartitionOffset(topic, 0, offset: 0), TopicPartitionOffset(topic, 1, offset: 0)])
        let busy = TopicPartition(topic, 0), paused = TopicPartition(topic, 1)
        var next: [Int64] = [0, 0]
        var problems: [String] = []
        func take(_ batch: some Sequence<KafkaMessageView>) {
            for m in batch {
                let p = Int(m.partition)
                if m.offset != next[p] { problems.append("p\(p): expected offset \(next[p]), got \(m.offset)") }
                next[p] = m.offset + 1
            }
        }
        // Partition 1 first, alone (partition 0 would fill the queue before its first fetch).
        try consumer.pause([busy])
        try await eventually("a message of partition 1", within: groupWaitLimit, every: .zero) {
            take(try await consumer.poll(maxMessages: 50))
            return next[1] > 0
        }
        try consumer.pause([paused])
        try consumer.resume([busy])
        let position = next[1]
        let restarts = consumer.fetchRestarts
        try await eventually("two fetch restarts", within: groupWaitLimit, every: .zero) {
            let batch = try await consumer.poll(maxMessages: 50)
            for m in batch where m.partition == 1 { problems.append("paused p1 delivered offset \(m.offset)") }
            take(batch.filter { $0.partition == 0 })
            return consumer.fetchRestarts > restarts + 1
        }
        #expect(try consumer.positions([paused]).first?.offset == position)
        // The worker tells the embedded broker (whose limits it respects) from a real cluster by its id.
        #expect(consumer.clusterID.map(EmbeddedBroker.isEmbedded) == true)
        #expect(!EmbeddedBroker.isEmbedded(clusterID: "lkc-6kx3p2"))
        try consumer.resume([paused])
        try await eventually("the rest of partition 1", within: groupWaitLimit, every: .zero) {
            take(try await consumer.poll(maxMessages: 50))
            return next[1] == Int64(counts[1])
        }
        await consumer.close()
        #expect(problems.isEmpty, "\(problems.prefix(5))")
    }
}
