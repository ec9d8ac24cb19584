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
        /// A slice of the records as they were appended, when the segment lies in one append.
        var entries: ArraySlice<Entry>
        /// The batch time: the Kafka timestamp of the marker, a value stored in the log.
        var timestampMillis: Int64
        /// The offset to commit once this segment is aggregated.
        var nextOffset: Int64
    }

    private(set) var pending: [Entry] = []

    /// The first offset not yet aggregated, or nil when nothing is pending.
    var firstPendingOffset: Int64? { pending.first?.offset }

    /// Adds records in log order; returns the segments they complete. A segment that lies within
    /// `entries` is a slice of it, not a copy: a batch's segment is ~15,000 records of ~170 bytes,
    /// and copying it into `pending` and out again cost a few percent of the worker's CPU, mostly
    /// in page faults on the new buffers.
    mutating func append(contentsOf entries: [Entry]) -> [Segment] {
        var segments: [Segment] = []
        var start = entries.startIndex
        for k in entries.indices where entries[k].record?.endsSegment == true {
            var slice = entries[start...k]
            if !pending.isEmpty {
                slice = ArraySlice(pending + slice)
                pending.removeAll()
            }
            segments.append(
                Segment(entries: slice, timestampMillis: entries[k].timestampMillis, nextOffset: entries[k].offset + 1))
            start = k + 1
        }
        pending += entries[start...]
        return segments
    }

    /// Forgets the open segment (on revoke, or after a failed batch whose offsets were not committed).
    mutating func reset() {
        pending.removeAll()
    }
}
