@testable import Pipeline
import Testing

@Suite struct MallocTuningTests {
    @Test func theOperatorsEnvironmentWinsSettingBySetting() {
        let all = MallocTuning.settings { _ in nil }
        #expect(all == .init(arenaMax: 2, trimThreshold: 64 << 20, mmapThreshold: 32 << 20, topPad: 16 << 20))
        let trimChosen = MallocTuning.settings { $0 == "MALLOC_TRIM_THRESHOLD_" ? "1048576" : nil }
        #expect(trimChosen == .init(arenaMax: 2, trimThreshold: nil, mmapThreshold: 32 << 20, topPad: 16 << 20))
        let arenasChosen = MallocTuning.settings { $0 == "MALLOC_ARENA_MAX" ? "8" : nil }
        #expect(arenasChosen.arenaMax == nil && arenasChosen.topPad == 16 << 20)
    }

    /// The C side really reaches glibc's mallopt (a wrong preprocessor test once made it a no-op).
    @Test func glibcAcceptsTheWorkersSettings() {
        #if canImport(Glibc)
        #expect(MallocTuning.apply(MallocTuning.settings { _ in nil }))
        #endif
    }
}
