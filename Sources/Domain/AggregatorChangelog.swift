/// One changelog record for a compacted topic: `value` nil deletes the key.
public struct ChangelogRecord: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]?
    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// About what it takes in a Kafka log (a record's own header is 7–10 bytes).
    public var logBytes: Int { key.utf8.count + (value?.count ?? 0) + 10 }
}

/// A changelog record that cannot be restored.
public struct ChangelogError: Error, Sendable, CustomStringConvertible {
    public let key: String
    public let problem: String
    public var description: String { "changelog record \(key): \(problem)" }
}

/// Packs a snapshot's records into `snapshot/part` records as they come. Each entry is a tag,
/// then for a held revision (tag 1) its year, slot and value, with no key text: a revision is
/// most of a state, and its key most of a revision record; otherwise (tag 0) key and value.
/// Strings and values carry their length.
struct SnapshotPacker {
    private var parts: [ChangelogRecord] = []
    private var w = BinaryWriter()

    mutating func add(key: String, value: [UInt8]) {
        w.byte(0)
        w.string(key)
        addValue(value)
    }

    mutating func addRevision(year: Int, slot: Int, _ held: HeldRevision) {
        w.byte(1)
        w.int(Int64(year)); w.uint(UInt64(slot))
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: ChangelogCodec.maxRevisionBytes) { buf in
            addValue(UnsafeBufferPointer(rebasing: buf[..<ChangelogCodec.encode(held, into: buf)]))
        }
    }

    /// An entry's value, after its key: length, then bytes.
    private mutating func addValue(_ value: some Collection<UInt8>) {
        w.uint(UInt64(value.count)); w.bytes.append(contentsOf: value)
        closePartIfFull()
    }

    mutating func finish() -> [ChangelogRecord] {
        if !w.bytes.isEmpty { closePart() }
        return parts
    }

    private mutating func closePartIfFull() {
        if w.bytes.count >= ChangelogCodec.snapshotPartBytes { closePart() }
    }

    private mutating func closePart() {
        parts.append(ChangelogRecord(key: ChangelogCodec.snapshotPartKey, value: w.bytes))
        w = BinaryWriter()
        w.bytes.reserveCapacity(ChangelogCodec.snapshotPartBytes + 1024)
    }
}

/// Keys and compact binary values of the aggregator's changelog:
/// `rev/{revision key}` → held revision (revision, accepted count, content digest, figures),
/// `sum/{region}/{year}/{period}` → digest of the last emitted content,
/// `alert/{alert id}` → active alert (deleted when resolved). A snapshot
/// (`Aggregator.changelogSnapshot`) is `snapshot/begin`, `snapshot/part`s holding every live key's
/// record, and `snapshot/end`; begin and end carry the snapshot's id.
enum ChangelogCodec {
    static let revisionPrefix = "rev/"
    static let summaryPrefix = "sum/"
    static let alertPrefix = "alert/"
    static let snapshotBeginKey = "snapshot/begin"
    static let snapshotPartKey = "snapshot/part"
    static let snapshotEndKey = "snapshot/end"
    static let format: UInt8 = 1
    /// A part is closed at this size: a few Kafka records per snapshot, not one per key, and far
    /// below Kafka's default 1 MB message limit.
    static let snapshotPartBytes = 256 * 1024

    static func snapshotMarker(_ key: String, id: Int64) -> ChangelogRecord {
        ChangelogRecord(key: key, value: (0..<8).map { UInt8(truncatingIfNeeded: id >> (8 * (7 - $0))) })
    }

    static func unpackSnapshotPart(_ bytes: [UInt8]) throws(BinaryReader.Failure) -> [ChangelogRecord] {
        var r = BinaryReader(bytes)
        var records: [ChangelogRecord] = []
        while !r.atEnd {
            switch try r.byte() {
            case 0:
                let key = try r.string()
                records.append(ChangelogRecord(key: key, value: try r.raw(Int(clamping: try r.uint()))))
            case 1:
                let year = try r.int(), slot = try r.uint()
                guard slot < YearRevisions.slotCount else { throw .init("bad revision slot") }
                let value = try r.raw(Int(clamping: try r.uint()))
                records.append(ChangelogRecord(key: revisionKey(year: Int(year), slot: Int(slot)), value: value))
            default:
                throw .init("unknown snapshot entry")
            }
        }
        return records
    }

    /// `rev/{province}/{fiscal_year}/{source}/{period_end}/{status}` (= "rev/" + RevisionKey).
    static func revisionKey(year: Int, slot: Int) -> String {
        let p = YearRevisions.parts(of: slot)
        guard (0...9999).contains(year) else {
            return revisionPrefix
                + RevisionKey(
                    province: Aggregator.text(p.code), fiscalYear: year, source: p.source,
                    periodEnd: YearMonth(year: year, month: p.month), status: p.status
                ).description
        }
        // rev/PP/YYYY/SRC/YYYY-MM/status (at most 33 bytes), written straight into the String's storage.
        return String(unsafeUninitializedCapacity: 40) { out in
            var i = 0
            func put(_ b: UInt8) { out[i] = b; i += 1 }
            func put(_ text: StaticString) {
                for j in 0..<text.utf8CodeUnitCount { put(text.utf8Start[j]) }
            }
            func digits(_ v: Int, _ count: Int) {
                var scale = 1
                for _ in 1..<count { scale *= 10 }
                for _ in 0..<count { put(UInt8(ascii: "0") + UInt8(v / scale % 10)); scale /= 10 }
            }
            put("rev/"); digits(p.code, 2); put(UInt8(ascii: "/"))
            digits(year, 4); put(UInt8(ascii: "/"))
            put(p.source == .kcqg ? "KCQG" : "KCDP"); put(UInt8(ascii: "/"))
            digits(year, 4); put(UInt8(ascii: "-")); digits(p.month, 2); put(UInt8(ascii: "/"))
            put(p.status == .actual ? "actual" : "estimate")
            return i
        }
    }

    /// (year, slot) of a `rev/…` key; nil when it is not one.
    static func parseRevisionKey(_ key: String) -> (year: Int, slot: Int)? {
        let parts = key.dropFirst(revisionPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard key.hasPrefix(revisionPrefix), parts.count == 5, let code = Aggregator.code(String(parts[0])),
            let year = Int(parts[1]), let source = FundingSource(rawValue: String(parts[2])),
            let period = YearMonth(String(parts[3])), period.year == year,
            let status = ReportStatus(rawValue: String(parts[4]))
        else { return nil }
        return (year, YearRevisions.index(code: code, source: source, month: period.month, status: status))
    }

    /// One record per accepted revision key per batch (the changelog's bulk): written straight
    /// into the array's storage, at most 1 + 7 × 10 + 1 bytes.
    static func encode(_ h: HeldRevision) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: maxRevisionBytes) { buf, count in count = encode(h, into: buf) }
    }

    static let maxRevisionBytes = 72

    /// Writes `h` at the start of `buf` (at least `maxRevisionBytes`); returns the length.
    @inline(__always)
    static func encode(_ h: HeldRevision, into buf: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var w = ScratchWriter(buf)
        w.byte(format)
        w.int(h.revision); w.int(h.accepted)
        w.uint(UInt64(truncatingIfNeeded: h.digest >> 64)); w.uint(UInt64(truncatingIfNeeded: h.digest))
        w.int(h.plan); w.int(h.executed)
        w.byte((h.hasAdvanced ? 1 : 0) | (h.estimate ? 2 : 0))
        if h.hasAdvanced { w.int(h.advanced) }
        return w.count
    }

    static func decodeRevision(_ bytes: [UInt8]) throws(BinaryReader.Failure) -> HeldRevision {
        var r = BinaryReader(bytes)
        guard try r.byte() == format else { throw .init("unknown format") }
        let revision = try r.int(), accepted = try r.int()
        let digest = UInt128(try r.uint()) << 64 | UInt128(try r.uint())
        let plan = try r.int(), executed = try r.int()
        let flags = try r.byte()
        guard flags < 4, revision >= 1, accepted >= 1 else { throw .init("bad revision record") }
        let advanced = flags & 1 == 1 ? try r.int() : nil
        guard r.atEnd else { throw .init("trailing bytes") }
        return HeldRevision(
            revision: revision, accepted: accepted, digest: digest, plan: plan, executed: executed,
            advanced: advanced, estimate: flags & 2 == 2)
    }

    static func encode(_ a: ActiveAlert) -> [UInt8] {
        var w = BinaryWriter()
        w.byte(format)
        w.byte(a.severity == .critical ? 1 : 0)
        w.int(Int64(a.month))
        w.string(a.raisedAt)
        w.uint(UInt64(a.message.count)); w.bytes.append(contentsOf: a.message)
        return w.bytes
    }

    static func decodeAlert(_ bytes: [UInt8]) throws(BinaryReader.Failure) -> ActiveAlert {
        var r = BinaryReader(bytes)
        guard try r.byte() == format else { throw .init("unknown format") }
        let severity: AlertRules.Severity = try r.byte() == 1 ? .critical : .warning
        let month = Int(try r.int())
        guard (1...12).contains(month) else { throw .init("bad month") }
        let raisedAt = try r.string()
        let message = try r.raw(Int(clamping: try r.uint()))
        guard r.atEnd else { throw .init("trailing bytes") }
        return ActiveAlert(severity: severity, raisedAt: raisedAt, month: month, message: message)
    }

    static func encode(digest: UInt128) -> [UInt8] {
        (0..<16).map { UInt8(truncatingIfNeeded: digest >> (8 * UInt128($0))) }
    }

    static func decodeDigest(_ bytes: [UInt8]) throws(BinaryReader.Failure) -> UInt128 {
        guard bytes.count == 16 else { throw .init("digest must be 16 bytes") }
        return bytes.enumerated().reduce(UInt128(0)) { $0 | (UInt128($1.element) << (8 * UInt128($1.offset))) }
    }

    /// A 128-bit content digest: four independent multiply-rotate lanes over 32-byte blocks
    /// (so the multiplies overlap), folded with the tail and the length. Detects content
    /// changes between batches. Digests are stored in the changelog: never change the algorithm.
    static func digest(_ bytes: [UInt8]) -> UInt128 {
        var l0: UInt64 = 0x9E37_79B9_7F4A_7C15, l1: UInt64 = 0xC2B2_AE3D_27D4_EB4F
        var l2: UInt64 = 0x1656_67B1_9E37_79F9, l3: UInt64 = 0x27D4_EB2F_1656_67C5
        let m0: UInt64 = 0x87C3_7B91_1142_53D5, m1: UInt64 = 0x4CF5_AD43_2745_937F
        var h = WordHasher()
        bytes.withUnsafeBytes { raw in
            var i = 0
            let n = raw.count
            while i + 32 <= n {
                l0 = ((l0 ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))) &* m0)
                    .rotatedLeft(27)
                l1 = ((l1 ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))) &* m1)
                    .rotatedLeft(31)
                l2 = ((l2 ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))) &* m0)
                    .rotatedLeft(29)
                l3 = ((l3 ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))) &* m1)
                    .rotatedLeft(33)
                i += 32
            }
            h.word(l0); h.word(l1); h.word(l2); h.word(l3)
            while i + 8 <= n {
                h.word(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                i += 8
            }
            var tail: UInt64 = 0
            for j in i..<n { tail |= UInt64(raw[j]) << (8 * UInt64(j - i)) }
            h.word(tail)
            h.word(UInt64(n))
        }
        return h.finish()
    }
}
