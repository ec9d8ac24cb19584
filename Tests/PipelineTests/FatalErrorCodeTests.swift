import Kafka
@testable import Pipeline
import Testing

/// Which Kafka errors end the worker: decided by librdkafka's code, not by its name.
@Suite struct FatalErrorCodeTests {
    static func code(_ raw: Int32) -> KafkaErrorCode { KafkaErrorCode(rawValue: raw) }

    /// Fenced (transactional id, instance id), or refused credentials or permissions.
    @Test(arguments: [
        KafkaErrorCode.fenced, .producerFenced, .invalidProducerEpoch, code(52), code(82),
        .authentication, .saslAuthenticationFailed, code(29), code(30), code(31), .transactionalIdAuthorizationFailed,
        code(65),
    ])
    func endsTheWorker(code: KafkaErrorCode) {
        #expect(WorkerError.isFatal(KafkaError(code: code)), "\(code)")
    }

    /// Transient: the session is rebuilt and the worker goes on. FENCED_LEADER_EPOCH (74) is
    /// stale metadata despite its name.
    @Test(arguments: [
        KafkaErrorCode.timedOut, .notCoordinator, .coordinatorNotAvailable, .concurrentTransactions,
        .notLeaderForPartition, .requestTimedOut, .unknownTopicOrPartition, code(74),
    ])
    func isRetriedWithANewSession(code: KafkaErrorCode) {
        #expect(!WorkerError.isFatal(KafkaError(code: code)), "\(code)")
    }

    /// librdkafka's own fatal flag wins whatever the code.
    @Test func librdkafkasFatalFlagEndsTheWorker() {
        #expect(WorkerError.isFatal(KafkaError(code: .timedOut, isFatal: true)))
    }
}
