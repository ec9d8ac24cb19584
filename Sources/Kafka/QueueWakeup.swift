import CKafkaShim
import Dispatch
import Glibc
import Synchronization

/// A pipe librdkafka writes a byte into when a watched queue turns non-empty
/// (`rd_kafka_queue_io_event_enable`): one task waits on several queues at once, and is woken
/// the moment one has something, instead of polling them in turn on a short timer.
///
/// librdkafka writes once per empty → non-empty change and not again until the queue is served,
/// so a waiter empties the pipe first, then looks at the queues' lengths, and only then waits.
final class QueueWakeup: Sendable {
    private let readFD: Int32
    private let writeFD: Int32
    /// Waits run here, not on a client's blocking queue: that one must stay free for commits.
    private let waiting = DispatchQueue(label: "kafka.consumer.wait")
    /// A `signal` no wait has returned for yet.
    private let signalled = Atomic<Bool>(false)

    init() throws(KafkaError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw KafkaError(RD_KAFKA_RESP_ERR__FAIL, message: "pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    /// From now on `queue` turning non-empty wakes the waiter. Call `unwatch` before the queue
    /// handle is destroyed and before this object goes.
    func watch(_ queue: OpaquePointer) {
        var byte: UInt8 = 1
        rd_kafka_queue_io_event_enable(queue, writeFD, &byte, 1)
    }

    func unwatch(_ queue: OpaquePointer) {
        rd_kafka_queue_io_event_enable(queue, -1, nil, 0)
    }

    /// Wakes the waiter (any thread); if none waits, the next wait returns at once.
    func signal() {
        signalled.store(true, ordering: .releasing)
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    /// Waits up to `timeout` for a watched queue to turn non-empty or a `signal`; returns at once
    /// when `ready()` (the queues' lengths) says there is something already.
    func wait(timeout: Duration, ready: @escaping @Sendable () -> Bool) async {
        let ms = timeout.milliseconds
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            waiting.async { [self] in
                drain()
                if !signalled.load(ordering: .acquiring) && !ready() && ms > 0 {
                    var fd = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
                    _ = poll(&fd, 1, ms)
                }
                signalled.store(false, ordering: .releasing)
                continuation.resume()
            }
        }
    }

    private func drain() {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
            while read(readFD, buffer.baseAddress, buffer.count) > 0 {}
        }
    }
}
