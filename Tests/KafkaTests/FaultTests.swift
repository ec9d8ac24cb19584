import Kafka
import Synchronization
import Testing
import TestSupport

/// Each test has its own broker: faults are cluster-wide.
@Suite(.timeLimit(.minutes(1))) struct FaultTests {
    /// A producer on a broker of its own that delivered one message; its next Produce request fails with `code`.
    private func produceOnceThenFailNext(with code: KafkaErrorCode) async throws -> (
        EmbeddedBroker, KafkaProducer, String
    ) {
        let broker = try EmbeddedBroker(brokers: 1, logger: quietLogger)
        let topic = unique("produce-error")
        try broker.createTopic(topic, partitions: 1)
        let producer = try producer(broker)
        try await producer.send(topic: topic, key: nil, value: [0])
        try await producer.flush()
        broker.pushRequestErrors(.produce, [code])
        try await producer.send(topic: topic, key: nil, value: [1])
        return (broker, producer, topic)
    }

    @Test func aBrokerDownDuringProductionThenUpDeliversEverythingExactlyOnce() async throws {
        let broker = try EmbeddedBroker(brokers: 3, logger: quietLogger)
        let topic = unique("down")
        try broker.createTopic(topic, partitions: 6)
        for p in Int32(0)..<6 { try broker.setPartitionLeader(topic: topic, partition: p, broker: p / 2 + 1) }
        let onDownBroker: Set<Int32> = [2, 3]  // partitions led by broker 2
        let producer = try producer(broker) { $0.perMessageDeliveryReports = true }
        var reports = producer.deliveryReports.makeAsyncIterator()

        for i in 0..<600 {
            try await producer.send(topic: topic, partition: Int32(i % 6), key: nil, value: Array("m\(i)".utf8))
        }
        try await producer.flush()
        for _ in 0..<600 { _ = await reports.next() }

        try broker.setBrokerDown(2)
        for i in 600..<1200 {
            try await producer.send(topic: topic, partition: Int32(i % 6), key: nil, value: Array("m\(i)".utf8))
        }
        // Wait for the other brokers' 400 deliveries: broker 2's 200 are then still stuck.
        var delivered = 0
        while delivered < 400, let report = await reports.next() {
            #expect(report.error == nil)
            #expect(!onDownBroker.contains(report.partition))
            delivered += 1
        }
        #expect(producer.outstanding == 200)
        try broker.setBrokerUp(2)
        try await producer.flush(timeout: .seconds(30))
        #expect(producer.outstanding == 0)
        await producer.shutdown()

        let consumer = try consumer(broker, group: unique("down-group"), topics: [topic])
        let messages = try await consume(consumer, count: 1200)
        let extra = try await consumer.poll(timeout: .milliseconds(300))
        await consumer.close()
        let values = messages.map { String(decoding: $0.value ?? [], as: UTF8.self) }
        #expect(values.count == 1200)
        #expect(Set(values) == Set((0..<1200).map { "m\($0)" }))
        #expect(extra.isEmpty)
        for p in Int32(0)..<6 {
            #expect(messages.filter { $0.partition == p }.map(\.offset).sorted() == Array(0..<200))
        }
    }

    @Test func retriableProduceErrorsAreRetriedAndDeliveredOnce() async throws {
        let broker = try EmbeddedBroker(brokers: 1, logger: quietLogger)
        let topic = unique("retry")
        try broker.createTopic(topic, partitions: 1)
        let producer = try producer(broker)
        broker.pushRequestErrors(.produce, [.notLeaderForPartition, .requestTimedOut, KafkaErrorCode(rawValue: 7)])
        for i in 0..<50 { try await producer.send(topic: topic, key: nil, value: [UInt8(i)]) }
        try await producer.flush(timeout: .seconds(30))
        await producer.shutdown()
        let consumer = try consumer(broker, group: unique("retry-group"), topics: [topic])
        let messages = try await consume(consumer, count: 50)
        let extra = try await consumer.poll(timeout: .milliseconds(300))
        await consumer.close()
        #expect(messages.compactMap { $0.value?.first } == (0..<50).map { UInt8($0) })
        #expect(extra.isEmpty)
    }

    @Test func aPermanentProduceErrorFailsThatMessageOnlyAndIsNotFatal() async throws {
        // Kafka error 10 is MSG_SIZE_TOO_LARGE.
        let (broker, producer, topic) = try await produceOnceThenFailNext(with: KafkaErrorCode(rawValue: 10))
        await #expect {
            try await producer.flush(timeout: .seconds(10))
        } throws: { error in
            guard let error = error as? KafkaError else { return false }
            return error.code == KafkaErrorCode(rawValue: 10) && !error.isFatal
        }
        // The producer goes on.
        try await producer.send(topic: topic, key: nil, value: [2])
        try await producer.flush()
        #expect(producer.fatalError == nil)
        await producer.shutdown()
        withExtendedLifetime(broker) {}
    }

    @Test func aSequenceDesyncIsFatalForTheIdempotentProducer() async throws {
        // Kafka error 45 is OUT_OF_ORDER_SEQUENCE_NUMBER.
        let (broker, producer, topic) = try await produceOnceThenFailNext(with: KafkaErrorCode(rawValue: 45))
        await #expect {
            try await producer.flush(timeout: .seconds(10))
        } throws: { error in
            (error as? KafkaError)?.isFatal == true
        }
        #expect(producer.fatalError?.isFatal == true)
        await #expect {
            try await producer.send(topic: topic, key: nil, value: [2])
        } throws: { error in
            (error as? KafkaError)?.isFatal == true
        }
        await producer.shutdown(timeout: .seconds(1))
        withExtendedLifetime(broker) {}
    }

    @Test func aRoundTripDelayOnTheLeaderSlowsDelivery() async throws {
        let broker = try EmbeddedBroker(brokers: 1, logger: quietLogger)
        let topic = unique("rtt")
        try broker.createTopic(topic, partitions: 1)
        let producer = try producer(broker)
        try await producer.send(topic: topic, key: nil, value: [0])
        try await producer.flush()  // connection and metadata in place
        try broker.setRoundTripTime(broker: 1, milliseconds: 400)
        let start = ContinuousClock.now
        try await producer.send(topic: topic, key: nil, value: [1])
        try await producer.flush()
        #expect(ContinuousClock.now - start >= .milliseconds(400))
        await producer.shutdown()
    }
}

/// Wrong credentials: librdkafka only retries, so the client reports them as fatal.
@Suite(.timeLimit(.minutes(1))) struct AuthenticationTests {
    @Test func aFailedAuthenticationIsAFatalErrorThePollerSees() async throws {
        let broker = try sharedBroker()
        let topic = unique("auth")
        try broker.createTopic(topic, partitions: 1)
        // The embedded broker speaks PLAINTEXT only, so a SASL handshake with it cannot succeed.
        let consumer = try consumer(broker, group: unique("auth-group"), topics: [topic]) {
            $0.properties = [
                "security.protocol": "sasl_plaintext", "sasl.mechanisms": "PLAIN",
                "sasl.username": "province-49", "sasl.password": "wrong",
            ]
        }
        var failure: KafkaError?
        try await eventually("a failed poll", within: groupWaitLimit, every: .zero) {
            do throws(KafkaError) { _ = try await consumer.poll(timeout: .milliseconds(100)) } catch { failure = error }
            return failure != nil
        }
        #expect(failure?.isFatal == true, "\(String(describing: failure))")
        #expect(
            failure.map { [.authentication, .saslAuthenticationFailed].contains($0.code) } == true,
            "\(String(describing: failure))")
        await consumer.close()
    }
}
