import Kafka
import Testing
import TestSupport

@Suite struct TransactionTests {
    /// Consume-transform-produce: each input batch's outputs and its offsets in one transaction.
    /// The embedded broker ignores offsets sent in a transaction (its TxnOffsetCommit handler
    /// stores nothing), so the offsets are also committed by the consumer once the transaction
    /// is committed — the same offsets, harmless on a real cluster.
    private func processBatch(
        _ batch: KafkaMessageBatch, consumer: KafkaConsumer, producer: KafkaProducer,
        output: String, commit: Bool = true
    ) async throws {
        try producer.beginTransaction()
        for m in batch {
            try await producer.send(
                topic: output, partition: m.partition, key: m.key.map { Array($0) },
                value: Array("out-".utf8) + (m.value.map { Array($0) } ?? []))
        }
        try await producer.sendOffsetsToTransaction(batch.nextOffsets, groupMetadata: consumer.groupMetadata())
        if commit {
            try await producer.commitTransaction()
            try await consumer.commit(batch.nextOffsets)
        }
    }

    @Test func committedTransactionsAreVisibleAndTheirOffsetsAreWhereARestartResumes() async throws {
        let broker = try sharedBroker()
        let input = unique("txn-in"), output = unique("txn-out"), group = unique("txn-group")
        try broker.createTopic(input, partitions: 3)
        try broker.createTopic(output, partitions: 3)
        let plain = try producer(broker)
        for i in 0..<300 {
            try await plain.send(topic: input, partition: Int32(i % 3), key: nil, value: Array("\(i)".utf8))
        }
        try await plain.flush()

        let txn = try producer(broker, transactionalID: unique("txn"))
        try await txn.initTransactions()
        // An aborted transaction works and leaves the producer usable.
        try txn.beginTransaction()
        try await txn.send(topic: unique("txn-scratch"), key: nil, value: [1])
        try await txn.abortTransaction()

        let worker = try consumer(broker, group: group, topics: [input])
        var processed = 0
        try await eventually("300 processed inputs", within: groupWaitLimit, every: .zero) {
            let batch = try await worker.poll()
            if !batch.isEmpty { try await processBatch(batch, consumer: worker, producer: txn, output: output) }
            processed += batch.count
            return processed >= 300
        }
        await worker.close()
        await txn.shutdown()

        // The group's committed offsets are the ends of the input partitions.
        let restarted = try consumer(broker, group: group, topics: [input])
        let committed = try await restarted.committed((0..<3).map { TopicPartition(input, $0) })
        #expect(committed.map(\.offset) == [100, 100, 100])
        let leftover = try await restarted.poll(timeout: .milliseconds(500))
        #expect(leftover.isEmpty)
        await restarted.close()

        // A read_committed consumer sees every committed output.
        let reader = try consumer(broker, group: unique("txn-reader"), topics: [output])
        let outputs = try await consume(reader, count: 300)
        await reader.close()
        #expect(
            Set(outputs.compactMap { $0.value.map { String(decoding: $0, as: UTF8.self) } })
                == Set((0..<300).map { "out-\($0)" }))
        // Also push the plain producer's messages through its shutdown path.
        await plain.shutdown()
    }

    @Test func consumeTransformProduceResumesAfterACrashFromTheLastCommittedBatch() async throws {
        let broker = try sharedBroker()
        let input = unique("ctp-in"), output = unique("ctp-out"), group = unique("ctp-group"), txnID = unique("ctp")
        try broker.createTopic(input, partitions: 2)
        try broker.createTopic(output, partitions: 2)
        let plain = try producer(broker)
        for i in 0..<200 {
            try await plain.send(topic: input, partition: Int32(i % 2), key: nil, value: Array("\(i)".utf8))
        }
        await plain.shutdown()

        // First incarnation: commits batches until half is done, then "crashes" mid-transaction.
        var committedInputs = Set<String>()
        do {
            let txn = try producer(broker, transactionalID: txnID)
            try await txn.initTransactions()
            let worker = try consumer(broker, group: group, topics: [input])
            var crashed = false
            try await eventually("a crash after 100 committed inputs", within: groupWaitLimit, every: .zero) {
                let batch = try await worker.poll(maxMessages: 30)
                guard !batch.isEmpty else { return false }
                if committedInputs.count >= 100 {
                    try await processBatch(batch, consumer: worker, producer: txn, output: output, commit: false)
                    crashed = true  // no commit: dropped below
                    return true
                }
                try await processBatch(batch, consumer: worker, producer: txn, output: output)
                for m in batch {
                    committedInputs.insert(
                        String(decoding: m.value ?? UnsafeRawBufferPointer(start: nil, count: 0), as: UTF8.self))
                }
                return false
            }
            #expect(crashed)
            await worker.close()
            // txn and worker are dropped here without committing the open transaction.
        }
        // Second incarnation resumes from the committed offsets.
        let txn = try producer(broker, transactionalID: txnID)
        try await txn.initTransactions()
        let worker = try consumer(broker, group: group, topics: [input])
        var resumedInputs: [String] = []
        try await eventually("200 inputs in all", within: groupWaitLimit, every: .zero) {
            let batch = try await worker.poll(maxMessages: 30)
            if !batch.isEmpty { try await processBatch(batch, consumer: worker, producer: txn, output: output) }
            resumedInputs += batch.map {
                String(decoding: $0.value ?? UnsafeRawBufferPointer(start: nil, count: 0), as: UTF8.self)
            }
            return committedInputs.count + resumedInputs.count >= 200
        }
        await worker.close()
        await txn.shutdown()
        #expect(committedInputs.isDisjoint(with: resumedInputs), "re-processed inputs of committed batches")
        #expect(committedInputs.union(resumedInputs) == Set((0..<200).map { "\($0)" }))
        #expect(resumedInputs.count == 200 - committedInputs.count)
    }
}

/// Fault injection needs a broker of its own: the mock's request-error stacks are cluster-wide.
@Suite struct TransactionFaultTests {
    /// A broker of its own; a transactional producer (coordinator pinned to broker 1) with a
    /// transaction begun; a consumer for group metadata.
    private func setUp() async throws -> (EmbeddedBroker, KafkaProducer, KafkaConsumer, String) {
        let broker = try EmbeddedBroker(brokers: 3, logger: quietLogger)
        let topic = unique("txf")
        try broker.createTopic(topic, partitions: 1)
        let txnID = unique("txf-id")
        try broker.setCoordinator(type: "transaction", key: txnID, broker: 1)
        let producer = try producer(broker, transactionalID: txnID)
        try await producer.initTransactions()
        let consumer = try consumer(broker, group: unique("txf-group"), topics: [topic])
        try producer.beginTransaction()
        return (broker, producer, consumer, topic)
    }

    @Test(arguments: [KafkaErrorCode.producerFenced, .invalidProducerEpoch])
    func fencedOnEndTxnIsFatal(_ code: KafkaErrorCode) async throws {
        let (broker, producer, consumer, topic) = try await setUp()
        try await producer.send(topic: topic, key: nil, value: [1])
        broker.pushRequestErrors(.endTxn, [code])
        await #expect {
            try await producer.commitTransaction(timeout: .seconds(10))
        } throws: { error in
            guard let error = error as? KafkaError else { return false }
            return error.isFatal && !error.isRetriable && error.code == .fenced
        }
        #expect(producer.fatalError?.isFatal == true)
        // The application acts on it: the producer refuses further work.
        #expect(throws: KafkaError.self) { try producer.beginTransaction() }
        await consumer.close()
        await producer.shutdown(timeout: .seconds(1))
    }

    @Test func fencedOnAddOffsetsToTxnIsFatal() async throws {
        let (broker, producer, consumer, topic) = try await setUp()
        try await producer.send(topic: topic, key: nil, value: [1])
        broker.pushRequestErrors(.addOffsetsToTxn, [.invalidProducerEpoch])
        await #expect {
            try await producer.sendOffsetsToTransaction(
                [TopicPartitionOffset(topic, 0, offset: 1)],
                groupMetadata: consumer.groupMetadata(), timeout: .seconds(10))
        } throws: { error in
            (error as? KafkaError)?.isFatal == true
        }
        #expect(producer.fatalError != nil)
        await consumer.close()
        await producer.shutdown(timeout: .seconds(1))
    }

    @Test func topicAuthorizationFailureRequiresAbortAndTheProducerGoesOn() async throws {
        let (broker, producer, consumer, topic) = try await setUp()
        broker.pushRequestErrors(.addPartitionsToTxn, [KafkaErrorCode(rawValue: 29)])  // TOPIC_AUTHORIZATION_FAILED
        try await producer.send(topic: topic, key: nil, value: [1])
        await #expect {
            try await producer.commitTransaction(timeout: .seconds(10))
        } throws: { error in
            guard let error = error as? KafkaError else { return false }
            return error.requiresAbort && !error.isFatal
        }
        try await producer.abortTransaction()
        try producer.beginTransaction()
        try await producer.send(topic: topic, key: nil, value: [2])
        try await producer.commitTransaction()
        #expect(producer.fatalError == nil)
        await consumer.close()
        await producer.shutdown()
    }

    @Test func aSlowCommitTimesOutAsRetriableAndARetrySucceeds() async throws {
        let (broker, producer, consumer, topic) = try await setUp()
        try await producer.send(topic: topic, key: nil, value: [1])
        try await producer.flush()
        try broker.pushRequestError(broker: 1, .endTxn, .noError, roundTripMs: 3000)
        await #expect {
            try await producer.commitTransaction(timeout: .milliseconds(500))
        } throws: { error in
            guard let error = error as? KafkaError else { return false }
            return error.isRetriable && !error.isFatal && !error.requiresAbort
        }
        try await producer.commitTransaction(timeout: .seconds(10))
        await consumer.close()
        await producer.shutdown()
    }
}
