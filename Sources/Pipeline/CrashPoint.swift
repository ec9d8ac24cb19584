/// A test's simulated crash: at `point`, in the first batch that emits summaries once
/// `afterSegments` segments have been aggregated.
struct CrashPlan: Sendable, Hashable {
    var point: CrashPoint
    var afterSegments: Int
}

/// Where a test makes a batch stop as if the process died.
enum CrashPoint: Sendable, Hashable, CaseIterable {
    /// Outputs produced and acknowledged, nothing else.
    case afterOutputs
    /// Changelog acknowledged, offsets not yet committed.
    case afterChangelog
    /// Offsets about to be committed (in the transaction: sent, not committed).
    case beforeOffsets
}
