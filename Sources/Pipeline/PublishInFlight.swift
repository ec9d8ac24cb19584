import Synchronization

/// The previous batch's publish, which runs while the next batch is collected and processed.
/// Settled (awaited) before the next publish, a rebalance, or the end of the session.
enum Publishing {
    case idle
    case inFlight(InFlightPublish)
}

/// A batch being published, and what the next batch's collecting needs to know of it.
struct InFlightPublish {
    let task: Task<Void, any Error>
    /// Set when the task has ended (collecting goes on until then).
    let ended: Flag
    /// Whether it appends sequenced records this worker's stage 2 reads back.
    let appendsOwnRecords: Bool
}

/// A one-way switch shared with a task.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
