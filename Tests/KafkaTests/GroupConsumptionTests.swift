import Kafka
import Testing
import TestSupport

/// Encodes (partition, sequence) so order and duplicates can be checked.
private func payload(partition: Int32, sequence: Int) -> [UInt8] {
    Array("\(partition):\(sequence):".utf8) + [UInt8](repeating: 0x2a, count: 64)
}

private func sequence(of message: KafkaMessage) -> Int? {
    guard let value = message.value else { return nil }
    let fields = value.split(separator: UInt8(ascii: ":"), maxSplits: 2)
    guard fields.count == 3 else { return nil }
    return Int(String(decoding: fields[1], as: UTF8.self))
}

@Suite struct GroupConsumptionTests {
    @Test func hundredThousandMessagesNoneLostNoneDuplicatedOrderKept() async throws {
        let broker = try sharedBroker()
        let topic = unique("bulk")
        let partitions: Int32 = 8
        let total = 100_000
        try broker.createTopic(topic, partitions: partitions)
        let producer = try producer(broker)
        var next = [Int](repeating: 0, count: Int(partitions))
        for i in 0..<total {
            let p = Int32(i % Int(partitions))
            try await producer.send(
                topic: topic, partition: p, key: Array("k\(i)".utf8),
                value: payload(partition: p, sequence: next[Int(p)]))
            next[Int(p)] += 1
        }
        try await producer.flush()
        await producer.shutdown()

        let consumer = try consumer(broker, group: unique("bulk-group"), topics: [topic])
        var seen = [Int](repeating: 0, count: Int(partitions))  // next expected sequence per partition
        var lastOffset = [Int64](repeating: -1, count: Int(partitions))
        var count = 0
        var problems: [String] = []
        try await eventually("every message", within: .seconds(40), every: .zero) {
            let batch = try await consumer.poll()
            for m in batch {
                let p = Int(m.partition)
                let message = m.owned()
                if sequence(of: message) != seen[p] {
                    problems.append("p\(p) offset \(m.offset): expected seq \(seen[p])")
                }
                if m.offset <= lastOffset[p] { problems.append("p\(p) offset went back to \(m.offset)") }
                seen[p] += 1
                lastOffset[p] = m.offset
                count += 1
            }
            try await consumer.commit(batch.nextOffsets, wait: false)
            return count >= total
        }
        // A little longer: nothing extra (no duplicates) may arrive.
        let extra = try await consumer.poll(timeout: .milliseconds(300))
        await consumer.close()
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(count == total)
        #expect(extra.isEmpty)
        #expect(seen == next)
    }

    @Test func twoConsumersSharePartitionsAndTheSurvivorResumesFromCommittedOffsets() async throws {
        let broker = try sharedBroker()
        let topic = unique("shared")
        let group = unique("shared-group")
        try broker.createTopic(topic, partitions: 6)
        // Cooperative: B keeps its own partitions while A's move to it, so nothing B already
        // consumed (uncommitted, below) is handed out again.
        let a = try consumer(broker, group: group, topics: [topic]) { $0.rebalanceProtocol = .cooperative }
        let b = try consumer(broker, group: group, topics: [topic]) { $0.rebalanceProtocol = .cooperative }
        // Let the group settle first (nothing is produced yet, so nothing is skipped).
        try await eventually("a settled group", within: groupWaitLimit, every: .zero) {
            _ = try await a.poll(timeout: .milliseconds(50))
            _ = try await b.poll(timeout: .milliseconds(50))
            let (pa, pb) = (Set(try a.assignment()), Set(try b.assignment()))
            return !pa.isEmpty && !pb.isEmpty && pa.isDisjoint(with: pb) && pa.count + pb.count == 6
        }
        let ownedByA = Set(try a.assignment().map(\.partition))

        let producer = try producer(broker)
        for i in 0..<600 {
            try await producer.send(topic: topic, partition: Int32(i % 6), key: nil, value: Array("m\(i)".utf8))
        }
        try await producer.flush()
        var received: [String: Int] = [:]
        var fromA = Set<Int32>(), fromB = Set<Int32>()
        try await eventually("600 messages", within: groupWaitLimit, every: .zero) {
            for (consumer, isA) in [(a, true), (b, false)] {
                let batch = try await consumer.poll(timeout: .milliseconds(50))
                for m in batch {
                    received[
                        String(decoding: m.value ?? UnsafeRawBufferPointer(start: nil, count: 0), as: UTF8.self),
                        default: 0] += 1
                    if isA { fromA.insert(m.partition) } else { fromB.insert(m.partition) }
                }
                try await consumer.commit(batch.nextOffsets)
            }
            return received.values.reduce(0, +) >= 600
        }
        #expect(fromA == ownedByA)
        #expect(fromA.isDisjoint(with: fromB))

        // A leaves; more messages arrive; B takes over A's partitions from their committed offsets.
        await a.close()
        for i in 600..<1200 {
            try await producer.send(topic: topic, partition: Int32(i % 6), key: nil, value: Array("m\(i)".utf8))
        }
        try await producer.flush()
        await producer.shutdown()
        let rest = try await consume(b, count: 600, commit: false)
        for m in rest { received[String(decoding: m.value ?? [], as: UTF8.self), default: 0] += 1 }
        let after = try await b.poll(timeout: .milliseconds(300))
        await b.close()
        for p in ownedByA {
            #expect(
                rest.filter { $0.partition == p }.map(\.offset).min() == 100,
                "partition \(p) not resumed at its committed offset")
        }
        #expect(Set(rest.map(\.partition)) == Set(0..<6))
        #expect(received.count == 1200)
        #expect(received.values.allSatisfy { $0 == 1 }, "duplicates: \(received.filter { $0.value > 1 }.prefix(5))")
        #expect(after.isEmpty)
    }
}
