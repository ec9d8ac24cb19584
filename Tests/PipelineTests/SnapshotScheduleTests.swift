import Domain
@testable import Pipeline
import Testing

/// `SnapshotSchedule` against a model of the embedded broker's changelog partition: record
/// batches appended whole, the oldest dropped whole while the partition holds more than 5 MiB.
@Suite struct SnapshotScheduleTests {
    static let window = 5 * 1024 * 1024

    struct Appended {
        var bytes: Int
        var snapshot: Bool
    }

    /// Whether the partition's retained batches still hold the whole state: nothing dropped
    /// yet, or a complete snapshot among them.
    static func restorable(_ log: [Appended], dropped: Bool) -> Bool { !dropped || log.contains(where: \.snapshot) }

    /// Batches of up to 10,000 updates (~500 kB of changes, up to ~450 kB of them new keys),
    /// states up to 3 MiB: after every batch the partition can be restored.
    @Test(arguments: 1...12)
    func theRetainedTailAlwaysHoldsTheState(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let stateLimit = Int.random(in: 100_000...(3 << 20), using: &rng)
        var state = 0
        var schedule = SnapshotSchedule(budget: WorkerSettings.embeddedChangelogBudget, restored: RestoredChangelog(records: [], tailBytes: 0))
        var log: [Appended] = [], size = 0, dropped = false, snapshots = 0
        for _ in 0..<3_000 {
            let changes = Bool.random(using: &rng) ? Int.random(in: 100...20_000, using: &rng) : Int.random(in: 100...500_000, using: &rng)
            state = min(stateLimit, state + Int.random(in: 0...min(changes, 450_000), using: &rng))
            var batch = Appended(bytes: changes, snapshot: false)
            if schedule.needsSnapshot(changes: changes) {
                batch = Appended(bytes: changes + state, snapshot: true)
                schedule.wroteSnapshot(bytes: state)
                snapshots += 1
            }
            log.append(batch)
            size += batch.bytes
            while log.count > 1 && size > Self.window {
                size -= log.removeFirst().bytes
                dropped = true
            }
            #expect(Self.restorable(log, dropped: dropped), "state \(state), batch \(changes)")
            if !Self.restorable(log, dropped: dropped) { return }
        }
        #expect(dropped && snapshots > 0)
    }

    /// A restored worker counts the log after the last snapshot it read: one that restored a
    /// long tail writes a snapshot sooner.
    @Test func aRestoredTailBringsTheNextSnapshotForward() {
        let state = [ChangelogRecord(key: "rev/x", value: Array(repeating: 0, count: 100_000))]
        var fresh = SnapshotSchedule(budget: 1_000_000, restored: RestoredChangelog(records: state, tailBytes: 100_000))
        var long = SnapshotSchedule(budget: 1_000_000, restored: RestoredChangelog(records: state, tailBytes: 800_000))
        let freshDue = fresh.needsSnapshot(changes: 50_000), longDue = long.needsSnapshot(changes: 50_000)
        #expect(!freshDue)
        #expect(longDue)
    }
}
