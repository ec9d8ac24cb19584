import CKafkaShim

/// Transactions (needs `transactionalID`). Errors are thrown as `KafkaError` classified by
/// librdkafka: `isRetriable` (call again), `requiresAbort` (abortTransaction, then go on),
/// `isFatal` (e.g. fenced: the producer is unusable; stop or recreate it).
extension KafkaProducer {
    /// Registers the transactional id with the coordinator (fencing older instances). Call once.
    public func initTransactions(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        try client.checkOpen()
        let deadline = ContinuousClock.now + timeout
        // In slices (the call resumes where a timed-out one stopped): librdkafka retries a failed
        // authentication until the timeout, and between slices the client's record of it ends
        // the wait at once.
        while true {
            let ms = max(1, min(500, (deadline - .now).milliseconds))
            do {
                return try await client.run { [client] () throws(KafkaError) in
                    try KafkaError.check(rd_kafka_init_transactions(client.rk, ms))
                }
            } catch  where error.code == .timedOut && ContinuousClock.now < deadline {
                if let fatal = client.fatalError { throw fatal }
            }
        }
    }

    /// Starts a transaction (local, non-blocking).
    public func beginTransaction() throws(KafkaError) {
        try client.checkOpen()
        try KafkaError.check(rd_kafka_begin_transaction(client.rk))
    }

    /// Adds consumed offsets (next offset to read) to the transaction, committed with it.
    public func sendOffsetsToTransaction(
        _ offsets: [TopicPartitionOffset], groupMetadata: KafkaConsumerGroupMetadata,
        timeout: Duration = .seconds(30)
    ) async throws(KafkaError) {
        let ms = timeout.milliseconds
        try client.checkOpen()
        try await client.run { [client] () throws(KafkaError) in
            let list = TopicPartitionList(offsets)
            try KafkaError.check(
                list.withListPointer { rd_kafka_send_offsets_to_transaction(client.rk, $0, groupMetadata.pointer, ms) })
        }
    }

    /// Flushes and commits the transaction.
    public func commitTransaction(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let ms = timeout.milliseconds
        try client.checkOpen()
        try await client.run { [client] () throws(KafkaError) in
            try KafkaError.check(rd_kafka_commit_transaction(client.rk, ms))
        }
        await settleTransaction()
    }

    /// Aborts the transaction (outstanding messages are purged).
    public func abortTransaction(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let ms = timeout.milliseconds
        try client.checkOpen()
        try await client.run { [client] () throws(KafkaError) in
            try KafkaError.check(rd_kafka_abort_transaction(client.rk, ms))
        }
        await settleTransaction()
    }
}

extension KafkaProducer {
    /// After commit/abort every message is reported (delivered or purged): wait for the reports so
    /// that purge errors of an aborted transaction do not surface in a later flush.
    private func settleTransaction() async {
        await state.waitForCompletion(of: state.accepted)
        _ = state.takeFirstError()
    }
}
