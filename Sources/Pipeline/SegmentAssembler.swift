/// Stage 2 reads the sequenced log in whatever slices polls return, but aggregates it in
/// segments that end at records marked `endsSegment`. Records after the last marker wait here;
/// the offset committed for the sequenced partition is the first one not yet aggregated, so a
/// restart re-reads the open segment from the log instead of from memory.
struct SegmentAssembler {
    struct Entry {
        var offset: Int64
        /// Kafka timestamp of the record (ms), used as the segment's batch time.
        var timestampMillis: Int64
        /// nil when the record could not be decoded (counted once, then skipped).
        var record: SequencedRecord?
    }

    struct Segment {
        var entries: [Entry]
        /// The batch time: the Kafka timestamp of the marker, a value stored in the log.
        var timestampMillis: Int64
        /// The offset to commit once this segment is aggregated.
        var nextOffset: Int64
    }

    private(set) var pending: [Entry] = []

    /// The first offset not yet aggregated, or nil when nothing is pending.
    var firstPendingOffset: Int64? { pending.first?.offset }

    /// Adds one record in log order; returns the segment it completes, if any.
    mutating func append(_ entry: Entry) -> Segment? {
        pending.append(entry)
        guard entry.record?.endsSegment == true else { return nil }
        let segment = Segment(entries: pending, timestampMillis: entry.timestampMillis, nextOffset: entry.offset + 1)
        pending.removeAll(keepingCapacity: true)
        return segment
    }

    /// Forgets the open segment (on revoke, or after a failed batch whose offsets were not committed).
    mutating func reset() {
        pending.removeAll()
    }
}
