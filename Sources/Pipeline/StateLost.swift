/// Records the state depends on are gone from a log: going on would silently leave them out.
struct StateLost: Error, CustomStringConvertible {
    var description: String

    /// The embedded broker dropped the changelog's head and no complete snapshot follows it.
    static func changelogHead(topic: String, logStart: Int64) -> StateLost {
        StateLost(
            description: "the state cannot be restored: \(topic) starts at offset \(logStart), its earlier records "
                + "are gone (the embedded broker keeps only ~5 MiB per partition), and no complete snapshot "
                + "follows them. "
                + "Start from an empty changelog: a new embedded broker, or a new --group-id.")
    }

    /// Sequenced records dropped before stage 2 read them: accepted updates never aggregated.
    static func sequencedRecords(topic: String, from: Int64, to: Int64) -> StateLost {
        StateLost(
            description: "stage 2 cannot go on: records \(from)..<\(to) of \(topic) were dropped before it read "
                + "them, so accepted updates would be missing from every total (the embedded broker keeps only "
                + "~5 MiB per "
                + "partition and several workers outran stage 2; on a real cluster, its retention is too short). "
                + "Start again "
                + "from the input: a new embedded broker, or a new --group-id.")
    }
}
