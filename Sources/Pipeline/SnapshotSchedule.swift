import Domain

/// When stage 2 writes its whole state into the changelog again (a snapshot): so that a log
/// that keeps only its last few MiB and never compacts (the embedded broker) always holds a
/// complete snapshot, or still holds everything. The log from the last snapshot's start to its
/// end stays within `budget`, counting the next batch and the snapshot after it.
struct SnapshotSchedule: Sendable {
    let budget: Int
    /// Bytes from the start of the last complete snapshot (or of the log) to the end.
    private(set) var tail: Int
    /// The state's size: the last snapshot's, or the restored records'.
    private(set) var stateBytes: Int
    private var largestBatch = 0

    init(budget: Int, restored: RestoredChangelog) {
        self.budget = budget
        tail = restored.tailBytes
        stateBytes = restored.records.reduce(0) { $0 + $1.logBytes }
    }

    /// What a batch adds to the log besides its records: the record batch's header (61 bytes)
    /// and, with transactions, the commit marker's batch (~70 bytes). Small batches at a low rate
    /// are mostly this.
    static let batchOverhead = 150

    /// A batch writes `changes` bytes of records: whether it must also write a snapshot, because
    /// the next batch (as large as the largest so far) and a snapshot after it might not fit any more.
    mutating func needsSnapshot(changes: Int) -> Bool {
        let bytes = changes + Self.batchOverhead
        tail += bytes
        largestBatch = max(largestBatch, bytes)
        return tail + largestBatch + stateBytes > budget
    }

    mutating func wroteSnapshot(bytes: Int) {
        tail = bytes
        stateBytes = bytes
    }
}
