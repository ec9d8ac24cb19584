import CKafkaShim
import Synchronization

/// Delivery bookkeeping shared by `send` callers and the event thread.
final class DeliveryState: @unchecked Sendable {
    /// Ids handed out; minus `rejected` (enqueue failed) = messages librdkafka accepted.
    let nextID = Atomic<UInt64>(0)
    let rejected = Atomic<UInt64>(0)
    var accepted: UInt64 { nextID.load(ordering: .relaxed) &- rejected.load(ordering: .relaxed) }
    private struct Inner {
        var completed: UInt64 = 0
        var firstError: KafkaError?
        var completionWaiters: [(target: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var spaceWaiters: [CheckedContinuation<Void, Never>] = []
        /// The tracked topic handle's address (a pointer is not Sendable).
        var tracked: UInt = 0
        var trackedOffsets: [Int32: Int64] = [:]
    }
    private let inner = Mutex(Inner())
    private let reports: AsyncStream<DeliveryReport>.Continuation?

    private let rk: OpaquePointer

    init(rk: OpaquePointer, reports: AsyncStream<DeliveryReport>.Continuation?) {
        self.rk = rk
        self.reports = reports
    }

    var completedCount: UInt64 { inner.withLock { $0.completed } }

    func track(_ rkt: OpaquePointer) {
        inner.withLock { s in
            s.tracked = UInt(bitPattern: rkt)
            s.trackedOffsets = [:]
        }
    }

    var trackedOffsets: [Int32: Int64] { inner.withLock { $0.trackedOffsets } }

    /// One DR event (a batch of messages); the event thread or a sender (see `trySend`).
    func process(_ event: OpaquePointer) {
        withUnsafeTemporaryAllocation(of: UnsafePointer<rd_kafka_message_t>?.self, capacity: 1024) { buffer in
            process(event, buffer: buffer)
        }
    }

    private func process(_ event: OpaquePointer, buffer: UnsafeMutableBufferPointer<UnsafePointer<rd_kafka_message_t>?>)
    {
        var done: UInt64 = 0
        var firstError: KafkaError?
        let tracked = inner.withLock { $0.tracked }
        var trackedOffsets: [Int32: Int64] = [:]
        while true {
            let n = rd_kafka_event_message_array(event, buffer.baseAddress, buffer.count)
            if n == 0 { break }
            for i in 0..<n {
                guard let m = buffer[i]?.pointee else { continue }
                done += 1
                var error: KafkaError?
                if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    // Fatal when librdkafka raised a fatal error for the instance (e.g. sequence desync).
                    error = KafkaError(
                        code: KafkaErrorCode(m.err),
                        message: "delivery failed: \(String(cString: rd_kafka_err2str(m.err)))",
                        isFatal: rd_kafka_fatal_error(rk, nil, 0) != RD_KAFKA_RESP_ERR_NO_ERROR)
                    if firstError == nil { firstError = error }
                } else if tracked != 0, UInt(bitPattern: m.rkt) == tracked,
                    m.offset > trackedOffsets[m.partition, default: -1]
                {
                    trackedOffsets[m.partition] = m.offset
                }
                if let reports {
                    reports.yield(
                        DeliveryReport(
                            id: UInt64(UInt(bitPattern: m._private)),
                            topic: m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "",
                            partition: m.partition, offset: m.offset, error: error))
                }
            }
        }
        let resumed = inner.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.completed &+= done
            if !trackedOffsets.isEmpty { s.trackedOffsets.merge(trackedOffsets, uniquingKeysWith: max) }
            if s.firstError == nil { s.firstError = firstError }
            var ready = s.spaceWaiters
            s.spaceWaiters.removeAll()
            let completed = s.completed
            ready += s.completionWaiters.filter { $0.target <= completed }.map(\.continuation)
            s.completionWaiters.removeAll { $0.target <= completed }
            return ready
        }
        for c in resumed { c.resume() }
    }

    func waitForCompletion(of target: UInt64) async {
        await withCheckedContinuation { c in
            let ready = inner.withLock { s -> Bool in
                if s.completed >= target { return true }
                s.completionWaiters.append((target, c))
                return false
            }
            if ready { c.resume() }
        }
    }

    func waitForSpace() async {
        await withCheckedContinuation { c in
            let ready = inner.withLock { s -> Bool in
                if s.completed >= accepted { return true }
                s.spaceWaiters.append(c)
                return false
            }
            if ready { c.resume() }
        }
    }

    func takeFirstError() -> KafkaError? {
        inner.withLock { s in
            defer { s.firstError = nil }
            return s.firstError
        }
    }

    /// Releases every waiter (the instance is gone) and ends the report stream.
    func finish() {
        let all = inner.withLock { s in
            defer { s.spaceWaiters.removeAll(); s.completionWaiters.removeAll() }
            return s.spaceWaiters + s.completionWaiters.map(\.continuation)
        }
        for c in all { c.resume() }
        reports?.finish()
    }
}
