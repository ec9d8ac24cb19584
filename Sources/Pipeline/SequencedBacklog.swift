/// Sequenced records this worker's stage 1 appended since it was assigned the sequenced
/// partition, and how many of them its stage 2 has read back; the same in bytes.
struct SequencedBacklog: Equatable {
    private var appended = 0
    private var read = 0
    private var appendedBytes = 0
    private var readBytes = 0

    var records: Int { appended - read }
    var bytes: Int { appendedBytes - readBytes }

    mutating func record(appended: Int, appendedBytes: Int, read: Int, readBytes: Int) {
        self.appended += appended
        self.appendedBytes += appendedBytes
        self.read += read
        self.readBytes += readBytes
    }
}

/// How far stage 1 may run ahead of its own stage 2 before its input is paused: in records, in
/// bytes of the sequenced partition (packs as stage 1 compressed them), or both. The input
/// resumes once the backlog is back under half of every limit.
struct BacklogLimit: Sendable, Equatable {
    var records: Int? = nil
    var bytes: Int? = nil

    func isExceeded(by backlog: SequencedBacklog) -> Bool {
        records.map { backlog.records > $0 } ?? false || bytes.map { backlog.bytes > $0 } ?? false
    }

    func isCleared(by backlog: SequencedBacklog) -> Bool {
        records.map { backlog.records <= $0 / 2 } ?? true && bytes.map { backlog.bytes <= $0 / 2 } ?? true
    }
}
