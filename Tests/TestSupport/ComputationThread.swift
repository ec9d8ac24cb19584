import Dispatch
import Testing

/// Runs the tests it marks on the computation thread, not on Swift's cooperative pool.
///
/// The pool has one thread per core. On 2 cores two long synchronous computations (a property
/// test, a hostile-input sweep) held both threads for tens of seconds, and the in-process
/// services of the parallel suites could not start within their bounded waits. Marked tests
/// run their bodies on one thread of their own — the kernel shares the cores between it and
/// the pool — and keep their task, so `#expect` still reports to the test.
public struct OffThePool: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await withTaskExecutorPreference(ComputationThread.shared) { try await function() }
    }
}

extension Trait where Self == OffThePool {
    /// Long synchronous computation: run it on the computation thread (see `OffThePool`).
    public static var offThePool: Self { Self() }
}

/// One serial thread for the marked tests' jobs. Hand-written: neither Dispatch nor the
/// standard library offers a `TaskExecutor`; this one is a serial queue, and a serial queue
/// gets a thread outside the cooperative pool.
public final class ComputationThread: TaskExecutor {
    static let shared = ComputationThread()
    private static let marker = DispatchSpecificKey<Bool>()
    private let queue = DispatchQueue(label: "khuyencong.tests.computation")

    private init() { queue.setSpecific(key: Self.marker, value: true) }

    /// Whether the caller runs on the computation thread.
    public static var isCurrent: Bool { DispatchQueue.getSpecific(key: marker) == true }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
