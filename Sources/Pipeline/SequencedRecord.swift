import Domain
import Synchronization

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

/// The bytes of one sequenced message, shared by its records (their payloads are slices).
final class PackBytes: Sendable {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

/// Input topic names as small numbers, so a sequenced record holds no reference: stage 2 copies
/// each record several times, and with a name and a pack per record retains and releases took
/// ~10 % of the worker's CPU (~7 % after). Names are few (one shared topic, or one per unit) and
/// never forgotten.
enum InputTopicNames {
    private static let table = Mutex<(names: [String], ids: [String: Int32])>(([], [:]))

    static func id(_ name: String) -> Int32 {
        table.withLock { t in
            if let id = t.ids[name] { return id }
            let id = Int32(t.names.count)
            t.names.append(name)
            t.ids[name] = id
            return id
        }
    }

    static func name(_ id: Int32) -> String { table.withLock { $0.names[Int(id)] } }
}

/// One record of `{group-id}.sequenced-updates`: a validated update's facts (all stage 2
/// aggregates) and where it came from. The original bytes stay in the input topic: stage 2 needs
/// them only for a `conflicting_revision` rejection, and the publish reads them back from there
/// (`OriginReader`). Records written before that still carry them, and are read as they are.
/// `endsSegment` marks the last record a stage-1 batch appended; stage 2 aggregates
/// exactly up to such markers so its batches (and so every output) are a function of the log
/// alone, never of how polls happened to split it.
///
/// The input's key is not stored: an accepted update's key is its province.
struct SequencedRecord: Sendable, Equatable {
    let facts: ReportFacts
    /// The input topic (`InputTopicNames`).
    let topicID: Int32
    let partition: Int32
    let offset: Int64
    /// The input's Kafka timestamp (ms since the epoch).
    let timestampMillis: Int64
    /// Only for a record written with the input's bytes (older builds); nil otherwise.
    let pack: PackBytes?
    let payloadRange: Range<Int>
    let endsSegment: Bool

    var topic: String { InputTopicNames.name(topicID) }
    var payload: ArraySlice<UInt8> { pack.map { $0.bytes[payloadRange] } ?? [] }

    var origin: InputOrigin {
        InputOrigin(
            topic: topic, partition: partition, offset: offset, key: Array(facts.province.utf8),
            timestampMillis: timestampMillis)
    }

    static func == (a: SequencedRecord, b: SequencedRecord) -> Bool {
        a.facts == b.facts && a.topicID == b.topicID && a.partition == b.partition && a.offset == b.offset
            && a.timestampMillis == b.timestampMillis && a.payload == b.payload && a.endsSegment == b.endsSegment
    }

    /// A record's fields at most: nine varints of up to 10 bytes, three bytes, the digest.
    static let maxFieldBytes = 9 * 10 + 3 + 16

    /// Stage 1's hot path: one record into an open pack.
    /// Layout: partition, offset, timestamp, code, fiscal year, period year, month, flags (source,
    /// status, advanced present), plan, executed, [advanced], revision (varints), the 16-byte
    /// digest, then the payload up to the record's end: empty since stage 1 stopped writing it
    /// (without it a record shrinks from ~460 to ~75 bytes; tests still write one).
    static func encode(
        _ f: ReportFacts, partition: Int32, offset: Int64, timestampMillis: Int64,
        payload: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0), into w: inout BinaryWriter
    ) {
        w.append(capacity: maxFieldBytes) { w in
            w.int(Int64(partition))
            w.int(offset)
            w.int(timestampMillis)
            w.byte(UInt8(truncatingIfNeeded: f.code))
            w.int(Int64(f.fiscalYear))
            w.int(Int64(f.periodEnd.year))
            w.byte(UInt8(truncatingIfNeeded: f.periodEnd.month))
            w.byte((f.source == .kcqg ? 0 : 1) | (f.status == .estimate ? 0 : 2) | (f.advancedVND == nil ? 0 : 4))
            w.int(f.planVND)
            w.int(f.executedVND)
            if let advanced = f.advancedVND { w.int(advanced) }
            w.int(f.revision)
            w.u128(f.digest)
        }
        w.bytes.append(contentsOf: payload)
    }

    /// One record at `range` of a pack; nil when the bytes are not a record (never traps).
    static func decode(_ pack: PackBytes, _ range: Range<Int>, topic: Int32, endsSegment: Bool) -> SequencedRecord? {
        var r = BinaryReader(pack.bytes, range: range)
        do throws(BinaryReader.Failure) {
            guard let partition = Int32(exactly: try r.int()) else { return nil }
            let offset = try r.int(), timestamp = try r.int(), code = try r.byte()
            let fiscalYear = try r.int(), periodYear = try r.int(), month = try r.byte(), flags = try r.byte()
            let plan = try r.int(), executed = try r.int()
            let advanced = flags & 4 != 0 ? try r.int() : nil
            let revision = try r.int(), digest = try r.u128()
            guard code < 100, (1...12).contains(month), flags < 8,
                let year = Int(exactly: fiscalYear), let pYear = Int(exactly: periodYear)
            else { return nil }
            let facts = ReportFacts(
                code: Int(code), fiscalYear: year, periodEnd: YearMonth(year: pYear, month: Int(month)),
                source: flags & 1 == 0 ? .kcqg : .kcdp, status: flags & 2 == 0 ? .estimate : .actual,
                planVND: plan, executedVND: executed, advancedVND: advanced, revision: revision, digest: digest)
            let payload = r.position..<range.upperBound
            return SequencedRecord(
                facts: facts, topicID: topic, partition: partition, offset: offset, timestampMillis: timestamp,
                pack: payload.isEmpty ? nil : pack, payloadRange: payload, endsSegment: endsSegment)
        } catch {
            return nil
        }
    }
}

/// Many sequenced records in one Kafka message. librdkafka's costs are per message (the produce
/// call, the delivery report, the framing, the consumer's message objects), so stage 1 packs
/// its records. A pack is `[4, flags]`, the length of its body (varint), then the body as one lz4
/// block (`LZ4Block`); the body is the input topic, then each record with its length (varint).
/// The segment marker is the pack's flag and belongs to its last record. Format 3, the same body
/// uncompressed right after `[3, flags]` (librdkafka compressed it), is still read.
enum SequencedPack {
    static let formatVersion: UInt8 = 4
    /// The format before stage 1 compressed its packs itself.
    static let uncompressedFormatVersion: UInt8 = 3
    /// Byte offset of the flags byte, so a batch can mark its last pack after encoding.
    static let flagsIndex = 1
    static let endsSegmentFlag: UInt8 = 1
    /// A pack is closed once its body holds this many bytes: far below Kafka's default 1 MB
    /// message limit, compressed or not.
    static let targetBytes = 256 * 1024

    /// Starts a pack's body in an empty writer.
    static func start(_ w: inout BinaryWriter, topic: String) {
        w.bytes.reserveCapacity(targetBytes + 8 * 1024)
        w.string(topic)
    }

    /// Appends one record, written by `encode`, with its length in front. The length takes a
    /// fixed 3 bytes (a varint padded with continuation bits): a record is at most ~64 KiB.
    static func add(_ w: inout BinaryWriter, _ encode: (inout BinaryWriter) -> Void) {
        let lengthAt = w.bytes.count
        w.bytes.append(contentsOf: [0x80, 0x80, 0])
        encode(&w)
        let length = w.bytes.count - lengthAt - 3
        precondition(length < 1 << 21, "sequenced record too large")
        w.bytes[lengthAt] = UInt8(length & 0x7F) | 0x80
        w.bytes[lengthAt + 1] = UInt8((length >> 7) & 0x7F) | 0x80
        w.bytes[lengthAt + 2] = UInt8(length >> 14)
    }

    /// The message for a finished body: header, then the body compressed.
    static func seal(_ body: [UInt8]) -> [UInt8] {
        var header = BinaryWriter()
        header.byte(formatVersion)
        header.byte(0)
        header.uint(UInt64(body.count))
        return LZ4Block.compressed(body, after: header.bytes)
    }

    /// Marks an encoded pack as the end of its segment.
    static func markEndOfSegment(_ pack: inout [UInt8]) {
        if pack.count > flagsIndex { pack[flagsIndex] |= endsSegmentFlag }
    }

    /// The records of one sequenced message; nil when it is not a pack of this format (never
    /// traps on bad input).
    static func unpack(_ bytes: UnsafeRawBufferPointer) -> [SequencedRecord]? {
        var records: [SequencedRecord] = []
        return unpack(bytes, into: &records) { $0 } ? records : nil
    }

    /// Appends the records of one sequenced message to `out`, each made into an element by
    /// `make` (stage 2 collects a whole batch in one array, without an array per pack). False,
    /// with `out` as it was, when the message is not a pack of a format read here or holds no record.
    static func unpack<Element>(
        _ bytes: UnsafeRawBufferPointer, into out: inout [Element],
        _ make: (SequencedRecord) -> Element
    ) -> Bool {
        guard bytes.count > flagsIndex, let body = body(of: bytes) else { return false }
        let flags = bytes[flagsIndex], pack = body.pack
        var r = BinaryReader(pack.bytes, range: body.start..<pack.bytes.count)
        let before = out.count
        func read() throws(BinaryReader.Failure) -> Bool {
            let topic = InputTopicNames.id(try r.string())
            while !r.atEnd {
                let length = try r.uint()
                guard length <= UInt64(r.remaining) else { return false }
                let recordStart = r.position
                try r.skip(Int(length))
                guard
                    let record = SequencedRecord.decode(
                        pack, recordStart..<r.position, topic: topic,
                        endsSegment: r.atEnd && flags & endsSegmentFlag != 0)
                else { return false }
                out.append(make(record))
            }
            return out.count > before
        }
        let complete = (try? read()) ?? false
        if !complete { out.removeSubrange(before...) }
        return complete
    }

    /// A pack's body, in bytes its records share, and where it starts in them.
    private static func body(of bytes: UnsafeRawBufferPointer) -> (pack: PackBytes, start: Int)? {
        switch bytes[0] {
        case formatVersion:
            var r = BinaryReader(Array(bytes[..<min(bytes.count, flagsIndex + 11)]))
            guard (try? r.skip(flagsIndex + 1)) != nil, let count = try? r.uint(), count <= UInt64(LZ4Block.maxCount),
                let body = LZ4Block.decompress(
                    UnsafeRawBufferPointer(rebasing: bytes[r.position...]), count: Int(count))
            else { return nil }
            return (PackBytes(body), 0)
        case uncompressedFormatVersion:
            return (PackBytes(Array(bytes)), flagsIndex + 1)
        default:
            return nil
        }
    }
}
