/// Folds changelog records, read in log order, into the latest record per key: what
/// `Aggregator.restore` takes. A complete snapshot (begin marker, parts holding every live key,
/// end marker with the same id) replaces everything before it, so a log that lost its head (the
/// embedded broker keeps only ~5 MiB of a partition and never compacts) restores exactly as long
/// as a complete snapshot follows the cut. A snapshot cut short (a crash) changes nothing.
public struct ChangelogFold: Sendable {
    private struct Table: Sendable {
        var records: [ChangelogRecord] = []
        var index: [String: Int] = [:]

        mutating func set(_ record: ChangelogRecord) {
            if let i = index[record.key] {
                records[i] = record
            } else {
                index[record.key] = records.count
                records.append(record)
            }
        }
    }

    private var table = Table()
    /// The snapshot being read: its id, its records so far, and `bytesRead` at its begin.
    private var pending: (id: [UInt8]?, table: Table, start: Int)?
    private var bytesRead = 0
    private var snapshotStart = 0
    /// Complete snapshots read so far.
    public private(set) var snapshots = 0

    public init() {}

    public mutating func add(_ record: ChangelogRecord) throws(ChangelogError) {
        let start = bytesRead
        bytesRead += record.logBytes
        switch record.key {
        case ChangelogCodec.snapshotBeginKey:
            pending = (record.value, Table(), start)
        case ChangelogCodec.snapshotEndKey:
            if let p = pending, p.id == record.value {
                table = p.table
                snapshotStart = p.start
                snapshots += 1
            }
            pending = nil
        case ChangelogCodec.snapshotPartKey:
            let records: [ChangelogRecord]
            do throws(BinaryReader.Failure) {
                records = try ChangelogCodec.unpackSnapshotPart(record.value ?? [])
            } catch {
                throw ChangelogError(key: record.key, problem: error.problem)
            }
            for r in records { set(r) }
        default:
            set(record)
        }
    }

    /// Offsets the consumer skipped (transaction markers) still take room in the log: `bytes` each.
    public mutating func skipped(offsets: Int64, bytes: Int) {
        bytesRead += Int(clamping: offsets) * bytes
    }

    private mutating func set(_ record: ChangelogRecord) {
        table.set(record)
        pending?.table.set(record)
    }

    /// The latest record of every key (deletions included), in order of first appearance.
    public var records: [ChangelogRecord] { table.records }

    /// Bytes (`ChangelogRecord.logBytes`) from the start of the last complete snapshot, or from
    /// the first record when there is none, to the end.
    public var tailBytes: Int { bytesRead - snapshotStart }
}
