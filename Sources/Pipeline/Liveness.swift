import Synchronization

/// Whether the batch loop is alive, for `/healthz`: it is not when the worker stopped on a fatal
/// error, or when the loop has made no progress for `stallLimit` while input was waiting (a
/// loop that finds nothing to do turns every 100 ms, so a long silence means it is stuck).
final class Liveness: Sendable {
    let stallLimit: Duration
    private let origin = ContinuousClock.now
    /// Nanoseconds after `origin` of the loop's last completed turn.
    private let lastProgress = Atomic<Int64>(0)
    private let inputWaiting = Atomic<Bool>(false)
    private let fatal = Mutex<String?>(nil)

    init(stallLimit: Duration) {
        self.stallLimit = stallLimit
    }

    /// A turn of the batch loop ended. `inputWaiting`: it took input, or the consumer still lags.
    func progressed(inputWaiting waiting: Bool, at now: ContinuousClock.Instant = .now) {
        lastProgress.store((now - origin).wholeNanoseconds, ordering: .relaxed)
        inputWaiting.store(waiting, ordering: .relaxed)
    }

    /// Input reached the loop; if the turn that took it never ends, the loop is stuck on it.
    func inputArrived() { inputWaiting.store(true, ordering: .relaxed) }

    /// The worker stopped for good.
    func failed(_ reason: String) { fatal.withLock { $0 = $0 ?? reason } }

    /// nil when alive, else why not (one line).
    func problem(at now: ContinuousClock.Instant = .now) -> String? {
        if let reason = fatal.withLock({ $0 }) { return "the worker stopped on a fatal error: \(reason)" }
        let silent = (now - origin) - .nanoseconds(lastProgress.load(ordering: .relaxed))
        guard inputWaiting.load(ordering: .relaxed), silent > stallLimit else { return nil }
        let seconds = silent.components.seconds, limit = stallLimit.components.seconds
        return "the batch loop has made no progress for \(seconds) s (limit \(limit) s) while input is waiting"
    }
}
