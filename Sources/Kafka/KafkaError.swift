import CKafkaShim

/// A librdkafka error code (`rd_kafka_resp_err_t`), e.g. for fault injection on the embedded broker.
public struct KafkaErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    init(_ err: rd_kafka_resp_err_t) { rawValue = err.rawValue }
    var c: rd_kafka_resp_err_t { rd_kafka_resp_err_t(rawValue: rawValue) }

    /// librdkafka's symbolic name, e.g. `PRODUCER_FENCED` or `_TIMED_OUT`.
    public var name: String { String(cString: rd_kafka_err2name(c)) }
    public var description: String { name }

    public static let noError = KafkaErrorCode(RD_KAFKA_RESP_ERR_NO_ERROR)
    public static let fail = KafkaErrorCode(RD_KAFKA_RESP_ERR__FAIL)
    public static let timedOut = KafkaErrorCode(RD_KAFKA_RESP_ERR__TIMED_OUT)
    public static let queueFull = KafkaErrorCode(RD_KAFKA_RESP_ERR__QUEUE_FULL)
    public static let state = KafkaErrorCode(RD_KAFKA_RESP_ERR__STATE)
    public static let fenced = KafkaErrorCode(RD_KAFKA_RESP_ERR__FENCED)
    public static let invalidArgument = KafkaErrorCode(RD_KAFKA_RESP_ERR__INVALID_ARG)
    public static let fatal = KafkaErrorCode(RD_KAFKA_RESP_ERR__FATAL)
    public static let producerFenced = KafkaErrorCode(RD_KAFKA_RESP_ERR_PRODUCER_FENCED)
    public static let invalidProducerEpoch = KafkaErrorCode(RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH)
    public static let notCoordinator = KafkaErrorCode(RD_KAFKA_RESP_ERR_NOT_COORDINATOR)
    public static let coordinatorNotAvailable = KafkaErrorCode(RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE)
    public static let concurrentTransactions = KafkaErrorCode(RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS)
    public static let notLeaderForPartition = KafkaErrorCode(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION)
    public static let requestTimedOut = KafkaErrorCode(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT)
    public static let topicAlreadyExists = KafkaErrorCode(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
    public static let transactionalIdAuthorizationFailed = KafkaErrorCode(
        RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    public static let authentication = KafkaErrorCode(RD_KAFKA_RESP_ERR__AUTHENTICATION)
    public static let saslAuthenticationFailed = KafkaErrorCode(RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED)
    public static let invalidTxnState = KafkaErrorCode(RD_KAFKA_RESP_ERR_INVALID_TXN_STATE)
    public static let unknownTopicOrPartition = KafkaErrorCode(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
    public static let unsupportedFeature = KafkaErrorCode(RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE)
}

/// An error reported by librdkafka, classified exactly as librdkafka classifies it.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// librdkafka's error code.
    public let code: KafkaErrorCode
    /// Human-readable message (librdkafka's own text where it gave one).
    public let message: String
    /// `rd_kafka_error_is_retriable`: the same operation may be retried.
    public let isRetriable: Bool
    /// `rd_kafka_error_is_fatal` / fatal error event: the client instance is unusable (e.g. fenced); recreate it.
    public let isFatal: Bool
    /// `rd_kafka_error_txn_requires_abort`: abort the current transaction, then continue.
    public let requiresAbort: Bool

    /// librdkafka's symbolic code name.
    public var name: String { code.name }
    public var description: String {
        var flags: [String] = []
        if isFatal { flags.append("fatal") }
        if requiresAbort { flags.append("abortable") }
        if isRetriable { flags.append("retriable") }
        return "\(name): \(message)" + (flags.isEmpty ? "" : " [\(flags.joined(separator: ","))]")
    }

    public init(
        code: KafkaErrorCode, message: String? = nil, isRetriable: Bool = false,
        isFatal: Bool = false, requiresAbort: Bool = false
    ) {
        self.code = code
        self.message = message ?? String(cString: rd_kafka_err2str(code.c))
        self.isRetriable = isRetriable
        self.isFatal = isFatal
        self.requiresAbort = requiresAbort
    }

    /// Takes ownership of (and destroys) an `rd_kafka_error_t`.
    init(consuming error: OpaquePointer) {
        self.init(
            code: KafkaErrorCode(rd_kafka_error_code(error)),
            message: String(cString: rd_kafka_error_string(error)),
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            requiresAbort: rd_kafka_error_txn_requires_abort(error) != 0)
        rd_kafka_error_destroy(error)
    }

    init(_ err: rd_kafka_resp_err_t, message: String? = nil) {
        self.init(code: KafkaErrorCode(err), message: message)
    }

    /// Throws when `error` is non-nil (and destroys it).
    static func check(_ error: OpaquePointer?) throws(KafkaError) {
        if let error { throw KafkaError(consuming: error) }
    }

    static func check(_ err: rd_kafka_resp_err_t, _ message: @autoclosure () -> String? = nil) throws(KafkaError) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, message: message()) }
    }
}

/// A NUL-terminated C buffer (errstr) as a String.
package func string(cBuffer: [CChar]) -> String {
    String(decoding: cBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
