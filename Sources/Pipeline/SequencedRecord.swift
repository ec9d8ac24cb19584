import Domain

/// Where an input message came from; carried so stage 2 can reject it with its original bytes.
public struct InputOrigin: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    /// The input's Kafka timestamp (ms since the epoch), for end-to-end latency.
    public var timestampMillis: Int64

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, timestampMillis: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.timestampMillis = timestampMillis
    }
}

/// One record of `{group-id}.sequenced-updates`: a validated update, its origin and original
/// payload. `endsSegment` marks the last record a stage-1 batch appended; stage 2 aggregates
/// exactly up to such markers so its batches (and so every output) are a function of the log
/// alone, never of how polls happened to split it.
///
/// A class: stage 2 passes each record through the segment assembler and the aggregator, and
/// copying a reference is one retain where copying the fields would be a dozen.
final class SequencedRecord: Sendable, Equatable {
    let update: ExecutionUpdate
    let origin: InputOrigin
    let payload: [UInt8]
    let endsSegment: Bool

    init(update: ExecutionUpdate, origin: InputOrigin, payload: [UInt8], endsSegment: Bool) {
        self.update = update
        self.origin = origin
        self.payload = payload
        self.endsSegment = endsSegment
    }

    static func == (a: SequencedRecord, b: SequencedRecord) -> Bool {
        a.update == b.update && a.origin == b.origin && a.payload == b.payload && a.endsSegment == b.endsSegment
    }

    static let formatVersion: UInt8 = 1
    /// Byte offset of the flags byte, so a batch can mark its last record after encoding.
    static let flagsIndex = 1
    static let endsSegmentFlag: UInt8 = 1

    func encoded() -> [UInt8] {
        var w = BinaryWriter()
        let key = origin.key ?? []
        payload.withUnsafeBytes { payload in
            key.withUnsafeBytes { key in
                Self.encode(update, topic: origin.topic, partition: origin.partition, offset: origin.offset,
                            key: origin.key == nil ? nil : key, timestampMillis: origin.timestampMillis,
                            payload: payload, endsSegment: endsSegment, into: &w)
            }
        }
        return w.bytes
    }

    /// Stage 1's hot path: encodes straight from the input message's buffers (into a pack).
    static func encode(_ u: ExecutionUpdate, topic: String, partition: Int32, offset: Int64, key: UnsafeRawBufferPointer?,
                       timestampMillis: Int64, payload: UnsafeRawBufferPointer, endsSegment: Bool, into w: inout BinaryWriter) {
        w.u8(Self.formatVersion)
        w.u8(endsSegment ? Self.endsSegmentFlag : 0)
        w.string(topic)
        w.i64(Int64(partition))
        w.i64(offset)
        w.optionalBytes(key)
        w.i64(timestampMillis)
        w.string(u.reportID)
        w.string(u.province)
        w.i64(Int64(u.fiscalYear))
        w.i64(Int64(u.periodEnd.year))
        w.u8(UInt8(truncatingIfNeeded: u.periodEnd.month))
        w.u8(u.source == .kcqg ? 0 : 1)
        w.u8(u.status == .estimate ? 0 : 1)
        w.i64(u.planVND)
        w.i64(u.executedVND)
        w.i64(u.revision)
        w.string(u.reportedAt)
        w.optionalI64(u.advancedVND)
        if let activities = u.activities {
            w.u8(1)
            w.i64(Int64(activities.count))
            for a in activities {
                w.string(a.category.rawValue)
                w.i64(a.executedVND)
                w.optionalI64(a.projects)
                w.optionalI64(a.beneficiaries)
            }
        } else {
            w.u8(0)
        }
        if let c = u.consulting {
            w.u8(1)
            w.i64(c.projects)
            w.i64(c.revenueVND)
        } else {
            w.u8(0)
        }
        w.bytes(payload)
    }

    /// Marks an encoded record (or pack) as the end of its segment.
    static func markEndOfSegment(_ encoded: inout [UInt8]) {
        if encoded.count > flagsIndex { encoded[flagsIndex] |= endsSegmentFlag }
    }

    /// nil when the bytes are not a record of this format (never traps on bad input).
    static func decode(_ bytes: UnsafeRawBufferPointer, endsSegment: Bool? = nil) -> SequencedRecord? {
        var r = BinaryReader(bytes)
        guard r.u8() == formatVersion, let flags = r.u8(),
              let topic = r.string(), let partition = r.i64(), let offset = r.i64(),
              let key = r.optionalBytes(), let timestamp = r.i64(),
              let reportID = r.string(), let province = r.string(),
              let fiscalYear = r.i64(), let periodYear = r.i64(), let periodMonth = r.u8(),
              let sourceTag = r.u8(), let statusTag = r.u8(),
              let plan = r.i64(), let executed = r.i64(), let revision = r.i64(),
              let reportedAt = r.string(), let advanced = r.optionalI64(),
              let hasActivities = r.u8()
        else { return nil }
        guard let partition32 = Int32(exactly: partition), sourceTag < 2, statusTag < 2,
              (1...12).contains(periodMonth)
        else { return nil }
        var activities: [Activity]?
        if hasActivities == 1 {
            guard let count = r.i64(), count >= 0, count <= Int64(r.remaining) else { return nil }
            var items: [Activity] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let name = r.string(), let category = ActivityCategory(rawValue: name),
                      let amount = r.i64(), let projects = r.optionalI64(), let beneficiaries = r.optionalI64()
                else { return nil }
                items.append(Activity(category: category, executedVND: amount, projects: projects, beneficiaries: beneficiaries))
            }
            activities = items
        }
        guard let hasConsulting = r.u8() else { return nil }
        var consulting: Consulting?
        if hasConsulting == 1 {
            guard let projects = r.i64(), let revenue = r.i64() else { return nil }
            consulting = Consulting(projects: projects, revenueVND: revenue)
        }
        guard let payload = r.bytes() else { return nil }
        let update = ExecutionUpdate(
            reportID: reportID, province: province, fiscalYear: Int(fiscalYear),
            periodEnd: YearMonth(year: Int(periodYear), month: Int(periodMonth)),
            source: sourceTag == 0 ? .kcqg : .kcdp, status: statusTag == 0 ? .estimate : .actual,
            planVND: plan, executedVND: executed, revision: revision, reportedAt: reportedAt,
            advancedVND: advanced, activities: activities, consulting: consulting)
        let origin = InputOrigin(topic: topic, partition: partition32, offset: offset, key: key, timestampMillis: timestamp)
        return SequencedRecord(update: update, origin: origin, payload: payload, endsSegment: endsSegment ?? (flags & endsSegmentFlag != 0))
    }
}

/// Many sequenced records in one Kafka message. librdkafka's costs are per message (the produce
/// call, the delivery report, the framing, the consumer's message objects), so stage 1 packs
/// its records: `[2, flags]` then each record (format 1) with its length. The segment marker is
/// the pack's flag (same place as a record's) and belongs to its last record.
enum SequencedPack {
    static let formatVersion: UInt8 = 2
    /// A pack is closed once it holds this many bytes: far below Kafka's default 1 MB message limit.
    static let targetBytes = 256 * 1024

    /// Starts a pack in an empty writer.
    static func start(_ w: inout BinaryWriter) {
        w.bytes.reserveCapacity(targetBytes + 8 * 1024)
        w.u8(formatVersion)
        w.u8(0)
    }

    /// Appends one record, written by `encode`, with its length in front.
    static func add(_ w: inout BinaryWriter, _ encode: (inout BinaryWriter) -> Void) {
        let lengthAt = w.bytes.count
        w.i64(0)
        encode(&w)
        let length = Int64(w.bytes.count - lengthAt - 8).littleEndian
        withUnsafeBytes(of: length) { bytes in
            for i in 0..<8 { w.bytes[lengthAt + i] = bytes[i] }
        }
    }

    /// The records of one sequenced message, a pack or a single record; nil when it is neither
    /// (never traps on bad input).
    static func unpack(_ bytes: UnsafeRawBufferPointer) -> [SequencedRecord]? {
        guard bytes.first != formatVersion else { return unpackRecords(bytes) }
        return SequencedRecord.decode(bytes).map { [$0] }
    }

    private static func unpackRecords(_ bytes: UnsafeRawBufferPointer) -> [SequencedRecord]? {
        var r = BinaryReader(bytes)
        guard r.u8() == formatVersion, let flags = r.u8() else { return nil }
        var records: [SequencedRecord] = []
        while r.remaining > 0 {
            guard let length = r.i64(), length >= 0, length <= Int64(r.remaining) else { return nil }
            let end = r.position + Int(length)
            let last = end == bytes.count
            guard let record = SequencedRecord.decode(UnsafeRawBufferPointer(rebasing: bytes[r.position..<end]),
                                                      endsSegment: last && flags & SequencedRecord.endsSegmentFlag != 0)
            else { return nil }
            records.append(record)
            r.position = end
        }
        return records.isEmpty ? nil : records
    }
}

/// Little-endian, length-prefixed fields.
struct BinaryWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }

    mutating func i64(_ v: Int64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func bytes(_ v: UnsafeRawBufferPointer) {
        i64(Int64(v.count))
        bytes.append(contentsOf: v)
    }

    mutating func string(_ v: String) {
        var v = v
        v.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    mutating func optionalBytes(_ v: UnsafeRawBufferPointer?) {
        if let v { u8(1); bytes(v) } else { u8(0) }
    }

    mutating func optionalI64(_ v: Int64?) {
        if let v { u8(1); i64(v) } else { u8(0) }
    }
}

struct BinaryReader {
    let base: UnsafeRawBufferPointer
    var position = 0

    init(_ base: UnsafeRawBufferPointer) { self.base = base }

    var remaining: Int { base.count - position }

    mutating func u8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { position += 1 }
        return base[position]
    }

    mutating func i64() -> Int64? {
        guard remaining >= 8 else { return nil }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(base[position + i]) << (8 * UInt64(i)) }
        position += 8
        return Int64(bitPattern: v)
    }

    mutating func bytes() -> [UInt8]? {
        guard let n = i64(), n >= 0, n <= Int64(remaining) else { return nil }
        defer { position += Int(n) }
        return Array(base[position..<(position + Int(n))])
    }

    mutating func string() -> String? {
        guard let n = i64(), n >= 0, n <= Int64(remaining) else { return nil }
        defer { position += Int(n) }
        return String(decoding: UnsafeRawBufferPointer(rebasing: base[position..<(position + Int(n))]), as: UTF8.self)
    }

    mutating func optionalBytes() -> [UInt8]?? {
        guard let tag = u8() else { return nil }
        if tag == 0 { return .some(nil) }
        guard tag == 1, let v = bytes() else { return nil }
        return .some(v)
    }

    mutating func optionalI64() -> Int64?? {
        guard let tag = u8() else { return nil }
        if tag == 0 { return .some(nil) }
        guard tag == 1, let v = i64() else { return nil }
        return .some(v)
    }
}
