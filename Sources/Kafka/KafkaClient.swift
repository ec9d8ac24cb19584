import CKafkaShim
import Dispatch
import Logging
import Synchronization

/// One `rd_kafka_t` and the two threads that serve it, so that no Swift code ever runs on a
/// librdkafka thread and no blocking call runs on the Swift cooperative pool:
/// - the event thread polls the main queue (delivery reports, errors, statistics, logs);
/// - `blocking`, a serial queue, runs every call that can block (consume with timeout, flush,
///   commits, transactions, close) and resumes the awaiting task through a continuation.
final class KafkaClient: @unchecked Sendable {
    let rk: OpaquePointer
    let logger: Logger
    let blocking: DispatchQueue
    private let mainQueue: OpaquePointer
    /// Consumers only: the consumer queue.
    let consumerQueue: OpaquePointer?
    /// Consumers only: kept alive until `rd_kafka_destroy` has returned (librdkafka calls it).
    private let rebalanceCallback: RebalanceCallback?
    private let eventQueue: DispatchQueue
    private let stopped = Atomic<Bool>(false)
    private let closing = Atomic<Bool>(false)
    /// Runs on the event thread; set before `start`.
    var onDeliveryEvent: ((OpaquePointer) -> Void)?
    var onStatistics: ((String) -> Void)?
    /// An authentication failure reported by an error event. librdkafka keeps retrying, but
    /// wrong credentials do not heal: the client reports it as fatal so the application can stop.
    private let authenticationFailure = Mutex<KafkaError?>(nil)

    /// Creates the handle from `conf` (consumed, also on failure), with `rebalanceCallback`
    /// (consumers) installed.
    init(
        _ type: rd_kafka_type_t, conf: OpaquePointer, rebalanceCallback: RebalanceCallback? = nil,
        logger: Logger, label: String
    ) throws(KafkaError) {
        rd_kafka_conf_set_events(
            conf,
            Int32(
                RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR | RD_KAFKA_EVENT_STATS
                    | RD_KAFKA_EVENT_LOG | RD_KAFKA_EVENT_OFFSET_COMMIT))
        rebalanceCallback?.install(on: conf)
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(RD_KAFKA_RESP_ERR__INVALID_ARG, message: string(cBuffer: errstr))
        }
        self.rk = rk
        self.rebalanceCallback = rebalanceCallback
        consumerQueue = type == RD_KAFKA_CONSUMER ? rd_kafka_queue_get_consumer(rk) : nil
        mainQueue = rd_kafka_queue_get_main(rk)
        rd_kafka_set_log_queue(rk, mainQueue)
        self.logger = logger
        blocking = DispatchQueue(label: "kafka.\(label).blocking")
        eventQueue = DispatchQueue(label: "kafka.\(label).events")
    }

    /// Starts the event thread.
    func start() {
        eventQueue.async { [self] in
            while !stopped.load(ordering: .acquiring) {
                guard let event = rd_kafka_queue_poll(mainQueue, 200) else { continue }
                handle(event)
                rd_kafka_event_destroy(event)
            }
        }
    }

    /// Handles the events already queued, without waiting (any thread; the handlers are thread-safe).
    func serveEvents(max: Int = 64) {
        guard !stopped.load(ordering: .relaxed) else { return }
        for _ in 0..<max {
            guard let event = rd_kafka_queue_poll(mainQueue, 0) else { return }
            handle(event)
            rd_kafka_event_destroy(event)
        }
    }

    /// The fatal error this instance raised, if any (the instance is then unusable); asked
    /// from librdkafka directly, so it is current even before the error event is polled.
    var fatalError: KafkaError? {
        guard rd_kafka_fatal_error(rk, nil, 0) != RD_KAFKA_RESP_ERR_NO_ERROR else {
            return authenticationFailure.withLock { $0 }
        }
        var buf = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(rk, &buf, buf.count)
        return KafkaError(code: KafkaErrorCode(code), message: string(cBuffer: buf), isFatal: true)
    }

    private func handle(_ event: OpaquePointer) {
        switch Int32(rd_kafka_event_type(event)) {
        case Int32(RD_KAFKA_EVENT_DR):
            onDeliveryEvent?(event)
        case Int32(RD_KAFKA_EVENT_LOG):
            var facility: UnsafePointer<CChar>?
            var text: UnsafePointer<CChar>?
            var level: Int32 = 0
            rd_kafka_event_log(event, &facility, &text, &level)
            let message = text.map { String(cString: $0) } ?? ""
            // One property list serves all of a program's clients (the worker passes `--kafka` to its
            // producer, consumer and admin client): a property of the other role is expected there.
            let otherRole = message.contains(" property and will be ignored by this ")
            let facilityName = facility.map { String(cString: $0) } ?? ""
            // A broker connection failure (FAIL) also arrives as an error event, logged below as
            // a warning: log it once, not as an error and a warning.
            let reportedAsError = facilityName == "FAIL"
            logger.log(
                level: otherRole || reportedAsError ? .debug : logLevel(syslog: level), "\(message)",
                metadata: ["facility": .string(facilityName)])
        case Int32(RD_KAFKA_EVENT_ERROR):
            let err = rd_kafka_event_error(event)
            if [KafkaErrorCode.authentication, .saslAuthenticationFailed].contains(KafkaErrorCode(err)) {
                let failure = KafkaError(
                    code: KafkaErrorCode(err), message: String(cString: rd_kafka_event_error_string(event)),
                    isFatal: true)
                authenticationFailure.withLock { $0 = $0 ?? failure }
                logger.error("Kafka authentication failed: \(failure)")
            } else if rd_kafka_event_error_is_fatal(event) != 0 {
                logger.error("librdkafka fatal error: \(fatalError.map { "\($0)" } ?? KafkaErrorCode(err).name)")
            } else {
                let name = KafkaErrorCode(err).name, text = String(cString: rd_kafka_event_error_string(event))
                logger.log(
                    level: BrokerOutageLog.shouldWarn(code: name, message: text) ? .warning : .debug,
                    "librdkafka: \(name): \(text)")
            }
        case Int32(RD_KAFKA_EVENT_STATS):
            if let json = rd_kafka_event_stats(event) { onStatistics?(String(cString: json)) }
        case Int32(RD_KAFKA_EVENT_OFFSET_COMMIT):
            let err = rd_kafka_event_error(event)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.warning("async offset commit failed: \(KafkaErrorCode(err).name)")
            }
        default:
            logger.debug("ignored librdkafka event \(String(cString: rd_kafka_event_name(event)))")
        }
    }

    /// Runs `body` on the blocking queue and awaits its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws(KafkaError) -> T) async throws(KafkaError) -> T {
        let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
            blocking.async {
                continuation.resume(returning: Result { () throws(KafkaError) -> T in try body() })
            }
        }
        return try result.get()
    }

    /// Runs a non-throwing `body` on the blocking queue and awaits its result.
    func perform<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            blocking.async { continuation.resume(returning: body()) }
        }
    }

    /// Runs `beforeStop` on the blocking queue (e.g. consumer close), then stops the event
    /// thread. Idempotent; blocks the caller. The handle itself is destroyed in `deinit`, so a
    /// late call on a shut-down client fails instead of touching freed memory.
    func shutdown(beforeStop: (() -> Void)? = nil) {
        guard !closing.exchange(true, ordering: .acquiringAndReleasing) else { return }
        blocking.sync { beforeStop?() }
        stopped.store(true, ordering: .releasing)
        rd_kafka_queue_yield(mainQueue)
        eventQueue.sync {}
    }

    /// Owners call this from their `deinit`: shuts down on a thread of its own (it can block).
    func shutdownDetached(beforeStop: (@Sendable () -> Void)? = nil) {
        DispatchQueue(label: "kafka.teardown").async { [self] in shutdown(beforeStop: beforeStop) }
    }

    /// Throws once `shutdown` has begun.
    func checkOpen() throws(KafkaError) {
        if closing.load(ordering: .relaxed) {
            throw KafkaError(RD_KAFKA_RESP_ERR__DESTROY, message: "the client has been shut down")
        }
    }

    deinit {
        // Only reached after shutdown (the event thread holds `self` until it stops). rd_kafka_destroy
        // joins librdkafka's threads, which can take long (or, with some librdkafka bugs, forever):
        // never on the releasing thread, which may be one of Swift's few cooperative threads.
        // A serial queue of its own gets a thread of its own, like `shutdownDetached`: a shared
        // concurrent queue would run on the global pool, where a stuck destroy takes a thread
        // the `shutdownAsync` timers need.
        let handles = Handles(
            rk: rk, mainQueue: mainQueue, consumerQueue: consumerQueue,
            rebalanceCallback: rebalanceCallback)
        DispatchQueue(label: "kafka.destroy").async {
            if let consumerQueue = handles.consumerQueue { rd_kafka_queue_destroy(consumerQueue) }
            rd_kafka_queue_destroy(handles.mainQueue)
            // Destroying a consumer never closed closes it, which can call the rebalance callback.
            withExtendedLifetime(handles.rebalanceCallback) { rd_kafka_destroy(handles.rk) }
        }
    }

    /// What `deinit` hands to the destroying queue: nothing else refers to them any more.
    private struct Handles: @unchecked Sendable {
        let rk: OpaquePointer
        let mainQueue: OpaquePointer
        let consumerQueue: OpaquePointer?
        let rebalanceCallback: RebalanceCallback?
    }

    /// `shutdown` awaited from async code, on a thread of its own, for at most `limit`: a
    /// librdkafka close that never returns (a group leave the broker never answers) must not
    /// hold the application's shutdown. Past the limit the instance is left to its thread.
    func shutdownAsync(within limit: Duration = .seconds(30), beforeStop: (@Sendable () -> Void)? = nil) async {
        // Whichever comes first resumes: true when the shutdown finished.
        let pending = Mutex<CheckedContinuation<Bool, Never>?>(nil)
        let finished = await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            pending.withLock { $0 = c }
            DispatchQueue(label: "kafka.shutdown").async { [self] in
                shutdown(beforeStop: beforeStop)
                pending.withLock { $0.take() }?.resume(returning: true)
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(limit.milliseconds))) {
                pending.withLock { $0.take() }?.resume(returning: false)
            }
        }
        if !finished {
            logger.error("librdkafka did not shut down within \(limit): leaving the instance behind")
        }
    }

    var isShutDown: Bool { closing.load(ordering: .acquiring) }
}

private func logLevel(syslog: Int32) -> Logger.Level {
    switch syslog {
    case ...2: .critical
    case 3: .error
    case 4: .warning
    case 5: .notice
    case 6: .info
    default: .debug
    }
}
