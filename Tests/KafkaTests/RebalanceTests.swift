import Kafka
import Synchronization
import Testing
import TestSupport

/// Records hook calls in order, with what the consumer still owned at that moment.
private final class HookLog: Sendable {
    struct Entry: Sendable {
        var consumer: String
        var kind: String  // "revoke" or "assign"
        var partitions: Set<Int32>
        var ownedDuringHook: Set<Int32>
    }
    let entries = Mutex<[Entry]>([])
    let consumers = Mutex<[String: KafkaConsumer]>([:])

    func hooks(for name: String) -> KafkaRebalanceHooks {
        KafkaRebalanceHooks(
            beforeRevoke: { partitions, _ in self.record(name, "revoke", partitions) },
            afterAssign: { partitions in self.record(name, "assign", partitions) })
    }

    private func record(_ name: String, _ kind: String, _ partitions: [TopicPartition]) {
        let owned = (try? consumers.withLock { $0[name] }?.assignment()) ?? []
        entries.withLock {
            $0.append(
                Entry(
                    consumer: name, kind: kind, partitions: Set(partitions.map(\.partition)),
                    ownedDuringHook: Set(owned.map(\.partition))))
        }
    }
}

extension HookLog {
    /// A group over a new 4-partition topic whose members record their hooks here, and its
    /// first member "A", polled until it owns every partition; `member` adds the next ones.
    static func groupWithFirstMember(
        _ name: String, _ rebalanceProtocol: KafkaConsumerConfiguration.RebalanceProtocol
    ) async throws -> (HookLog, member: (String) throws -> KafkaConsumer, first: KafkaConsumer, topic: String) {
        let broker = try sharedBroker()
        let topic = unique(name)
        let group = unique("\(name)-group")
        try broker.createTopic(topic, partitions: 4)
        let log = HookLog()
        let member = { (memberName: String) throws -> KafkaConsumer in
            let c = try consumer(broker, group: group, topics: [topic]) { $0.rebalanceProtocol = rebalanceProtocol }
            c.setRebalanceHooks(log.hooks(for: memberName))
            log.consumers.withLock { $0[memberName] = c }
            return c
        }
        let a = try member("A")
        try await eventually("A with all partitions", within: groupWaitLimit, every: .zero) {
            _ = try await a.poll(timeout: .milliseconds(50))
            return try a.assignment().count == 4
        }
        return (log, member, a, topic)
    }
}

@Suite struct RebalanceTests {
    @Test(arguments: [KafkaConsumerConfiguration.RebalanceProtocol.cooperative, .eager])
    func revokeHookRunsBeforePartitionsMoveAndAssignHookAfter(
        _ rebalanceProtocol: KafkaConsumerConfiguration.RebalanceProtocol
    ) async throws {
        let (log, member, a, _) = try await HookLog.groupWithFirstMember("rebalance", rebalanceProtocol)
        let b = try member("B")
        try await eventually("B with partitions", within: groupWaitLimit, every: .zero) {
            _ = try await a.poll(timeout: .milliseconds(50))
            _ = try await b.poll(timeout: .milliseconds(50))
            let (pa, pb) = (try a.assignment(), try b.assignment())
            return !pb.isEmpty && pa.count + pb.count == 4
        }
        let bOwned = Set(try b.assignment().map(\.partition))
        await a.close()
        await b.close()
        log.consumers.withLock { $0.removeAll() }

        let entries = log.entries.withLock { $0 }
        // Every hook saw its partitions assigned: before revocation and after assignment.
        for e in entries where e.kind == "revoke" && !e.partitions.isEmpty {
            #expect(e.partitions.isSubset(of: e.ownedDuringHook), "revoke hook ran after partitions were gone: \(e)")
        }
        for e in entries where e.kind == "assign" {
            #expect(e.partitions.isSubset(of: e.ownedDuringHook), "assign hook ran before assignment: \(e)")
        }
        // B's partitions came from A: A's revoke of each came before B's assign of it.
        let aRevoke = entries.firstIndex {
            $0.consumer == "A" && $0.kind == "revoke" && !$0.partitions.isDisjoint(with: bOwned)
        }
        let bAssign = entries.firstIndex {
            $0.consumer == "B" && $0.kind == "assign" && !$0.partitions.isDisjoint(with: bOwned)
        }
        let revoked = try #require(aRevoke, "A never revoked B's partitions: \(entries)")
        let assigned = try #require(bAssign, "B never assigned: \(entries)")
        #expect(revoked < assigned)
        #expect(entries.first?.consumer == "A" && entries.first?.kind == "assign")
    }

    /// Reading ahead never runs a hook: a rebalance it meets waits, reading ahead returns nothing
    /// meanwhile, and the next poll runs the hook before it consumes.
    @Test(arguments: [KafkaConsumerConfiguration.RebalanceProtocol.cooperative, .eager])
    func aRebalanceMetWhileReadingAheadWaitsForTheNextPoll(
        _ rebalanceProtocol: KafkaConsumerConfiguration.RebalanceProtocol
    ) async throws {
        let (log, member, a, topic) = try await HookLog.groupWithFirstMember("read-ahead", rebalanceProtocol)
        let hooksOfA = { log.entries.withLock { $0.filter { $0.consumer == "A" }.count } }
        let assignedOnly = hooksOfA()
        let b = try member("B")
        try await eventually("A meets the rebalance while reading ahead", within: groupWaitLimit, every: .zero) {
            _ = try await a.pollAhead()
            _ = try await b.poll(timeout: .milliseconds(50))
            return a.hasWaitingRebalance
        }
        #expect(hooksOfA() == assignedOnly, "a hook ran while reading ahead")
        let producer = try producer(try sharedBroker())
        for p in 0..<4 { try await producer.send(topic: topic, partition: Int32(p), key: nil, value: [1]) }
        try await producer.flush()
        await producer.shutdown()
        #expect(try await a.pollAhead().isEmpty, "read ahead while a rebalance waits")
        _ = try await a.poll(timeout: .zero)
        #expect(!a.hasWaitingRebalance)
        // The waiting event first: B's arrival takes partitions from A (the same poll may go on to
        // A's next event).
        let newOfA = log.entries.withLock { $0.filter { $0.consumer == "A" }.dropFirst(assignedOnly) }
        #expect(newOfA.first?.kind == "revoke", "\(log.entries.withLock { $0 })")
        // B must own partitions before it closes: librdkafka < 2.3 aborts when a cooperative
        // consumer closes before its first assignment (#4312).
        try await eventually("B with partitions", within: groupWaitLimit, every: .zero) {
            _ = try await a.poll(timeout: .milliseconds(50))
            _ = try await b.poll(timeout: .milliseconds(50))
            return !(try b.assignment()).isEmpty
        }
        await a.close()
        await b.close()
        log.consumers.withLock { $0.removeAll() }
    }

    @Test func pauseStopsAPartitionAndResumeRestartsIt() async throws {
        let broker = try sharedBroker()
        let topic = unique("pause")
        try broker.createTopic(topic, partitions: 2)
        let consumer = try consumer(broker, group: unique("pause-group"), topics: [topic])
        try await eventually("both partitions assigned", within: groupWaitLimit, every: .zero) {
            _ = try await consumer.poll(timeout: .milliseconds(50))
            return try consumer.assignment().count == 2
        }
        try consumer.pause([TopicPartition(topic, 0)])
        let producer = try producer(broker)
        for i in 0..<10 { try await producer.send(topic: topic, partition: Int32(i % 2), key: nil, value: [UInt8(i)]) }
        try await producer.flush()
        await producer.shutdown()
        let first = try await consume(consumer, count: 5)
        let more = try await consumer.poll(timeout: .milliseconds(500))
        #expect(first.allSatisfy { $0.partition == 1 })
        #expect(more.isEmpty)
        try consumer.resume([TopicPartition(topic, 0)])
        let resumed = try await consume(consumer, count: 5)
        #expect(resumed.count == 5)
        #expect(resumed.allSatisfy { $0.partition == 0 })
        await consumer.close()
    }

    @Test func lagComesFromStatistics() async throws {
        let broker = try sharedBroker()
        let topic = unique("lag")
        try broker.createTopic(topic, partitions: 1)
        let producer = try producer(broker)
        for i in 0..<10 { try await producer.send(topic: topic, key: nil, value: [UInt8(i)]) }
        try await producer.flush()
        await producer.shutdown()
        let consumer = try consumer(broker, group: unique("lag-group"), topics: [topic]) {
            $0.statisticsIntervalMs = 100
        }
        // The application takes 4 of the 10: 6 are still to be consumed, whatever is committed.
        var taken = 0
        try await eventually("4 messages", within: groupWaitLimit, every: .zero) {
            let batch = try await consumer.poll(maxMessages: 1)
            taken += batch.count
            return taken == 4
        }
        // Statistics arrive on librdkafka's schedule.
        try await eventually("a lag of 6", within: groupWaitLimit, every: .milliseconds(20)) {
            consumer.lag()[TopicPartition(topic, 0)] == 6
        }
        await consumer.close()
    }
}
