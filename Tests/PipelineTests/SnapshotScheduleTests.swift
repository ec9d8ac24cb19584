import Domain
@testable import Pipeline
import Testing

/// `SnapshotSchedule` against a model of the embedded broker's changelog partition: record
/// batches appended whole, the oldest dropped whole while the partition holds more than 5 MiB.
@Suite struct SnapshotScheduleTests {
    static let window = 5 * 1024 * 1024

    /// The partition: record batches (bytes, whether a snapshot), the retained ones from `head`.
    struct Partition {
        var batches: [(bytes: Int, snapshot: Bool)] = []
        var head = 0, size = 0, snapshots = 0
        var dropped = false

        mutating func append(bytes: Int, snapshot: Bool) {
            batches.append((bytes, snapshot))
            size += bytes
            if snapshot { snapshots += 1 }
            while batches.count - head > 1 && size > SnapshotScheduleTests.window {
                size -= batches[head].bytes
                if batches[head].snapshot { snapshots -= 1 }
                head += 1
                dropped = true
            }
        }

        /// The retained batches still hold the whole state: nothing dropped yet, or a complete
        /// snapshot among them.
        var restorable: Bool { !dropped || snapshots > 0 }
    }

    /// Batches of up to 10,000 updates (~500 kB of changes, up to ~450 kB of them new keys) or of
    /// one (a few hundred bytes, mostly the batch's overhead), states up to 3 MiB: after every
    /// batch the partition can be restored.
    @Test(arguments: 1...12, [false, true])
    func theRetainedTailAlwaysHoldsTheState(seed: UInt64, onlySingleUpdates: Bool) {
        var rng = SplitMix64(seed: seed)
        let stateLimit = Int.random(in: 100_000...(3 << 20), using: &rng)
        var state = 0
        var schedule = SnapshotSchedule(
            budget: WorkerSettings.embeddedChangelogBudget, restored: RestoredChangelog(records: [], tailBytes: 0))
        var partition = Partition()
        var written = 0
        for _ in 0..<30_000 {
            let changes =
                switch onlySingleUpdates ? 0 : Int.random(in: 0..<3, using: &rng) {
                case 0: Int.random(in: 60...600, using: &rng)
                case 1: Int.random(in: 600...20_000, using: &rng)
                default: Int.random(in: 600...500_000, using: &rng)
                }
            state = min(stateLimit, state + Int.random(in: 0...min(changes, 450_000), using: &rng))
            let snapshot = schedule.needsSnapshot(changes: changes)
            if snapshot {
                schedule.wroteSnapshot(bytes: state)
                written += 1
            }
            partition.append(
                bytes: changes + SnapshotSchedule.batchOverhead + (snapshot ? state : 0), snapshot: snapshot)
            guard partition.restorable else {
                Issue.record("state \(state), batch \(changes): no complete snapshot left")
                return
            }
        }
        #expect(partition.dropped && written > 0)
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
