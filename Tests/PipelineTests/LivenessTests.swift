@testable import Pipeline
import Testing

/// `/healthz`'s verdict on the batch loop, on explicit instants (no clock, no broker).
@Suite struct LivenessTests {
    let start = ContinuousClock.now

    @Test func aLoopThatTurnsIsAlive() {
        let liveness = Liveness(stallLimit: .seconds(60))
        liveness.progressed(inputWaiting: true, at: start)
        #expect(liveness.problem(at: start + .seconds(59)) == nil)
        liveness.progressed(inputWaiting: true, at: start + .seconds(59))
        #expect(liveness.problem(at: start + .seconds(118)) == nil)
    }

    @Test func aLoopSilentPastTheLimitWithInputWaitingIsStuck() {
        let liveness = Liveness(stallLimit: .seconds(60))
        liveness.progressed(inputWaiting: false, at: start)
        liveness.inputArrived()
        let problem = liveness.problem(at: start + .seconds(61))
        #expect(problem == "the batch loop has made no progress for 61 s (limit 60 s) while input is waiting")
    }

    @Test func withNothingToReadSilenceIsNotAStall() {
        let liveness = Liveness(stallLimit: .seconds(60))
        liveness.progressed(inputWaiting: false, at: start)
        #expect(liveness.problem(at: start + .seconds(600)) == nil)
    }

    @Test func aFatalErrorIsReportedAtOnceAndKept() {
        let liveness = Liveness(stallLimit: .seconds(60))
        liveness.progressed(inputWaiting: false, at: start)
        liveness.failed("fenced")
        liveness.failed("later")
        #expect(liveness.problem(at: start) == "the worker stopped on a fatal error: fenced")
    }
}
