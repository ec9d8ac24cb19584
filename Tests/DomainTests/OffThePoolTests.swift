import Testing
import TestSupport

/// The trait the long computations of this target rely on (see `OffThePool`).
@Suite struct OffThePoolTests {
    @Test(.offThePool) func aMarkedTestRunsOnTheComputationThread() async {
        #expect(ComputationThread.isCurrent)
        await Task.yield()
        #expect(ComputationThread.isCurrent, "after a suspension too")
    }

    @Test func anUnmarkedTestRunsOnThePool() {
        #expect(!ComputationThread.isCurrent)
    }

    @Test(.offThePool, arguments: [1, 2]) func eachArgumentRunsOnTheComputationThread(_ n: Int) {
        #expect(ComputationThread.isCurrent)
    }
}
