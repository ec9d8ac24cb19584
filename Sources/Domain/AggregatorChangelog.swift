/// One changelog record for a compacted topic: `value` nil deletes the key.
public struct ChangelogRecord: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]?
    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}

/// A changelog record that cannot be restored.
public struct ChangelogError: Error, Sendable, CustomStringConvertible {
    public let key: String
    public let problem: String
    public var description: String { "changelog record \(key): \(problem)" }
}

/// Keys and compact binary values of the aggregator's changelog:
/// `rev/{revision key}` → held revision (revision, accepted count, content digest, figures), `sum/{region}/{year}/{period}` → digest of
/// the last emitted content, `alert/{alert id}` → active alert (deleted when resolved).
enum ChangelogCodec {
    static let revisionPrefix = "rev/"
    static let summaryPrefix = "sum/"
    static let alertPrefix = "alert/"
    static let format: UInt8 = 1

    /// `rev/{province}/{fiscal_year}/{source}/{period_end}/{status}` (= "rev/" + RevisionKey).
    static func revisionKey(year: Int, slot: Int) -> String {
        let p = YearRevisions.parts(of: slot)
        var w = AggregateJSON(capacity: 40)  // used as a byte buffer: "YYYY-MM" comes quoted
        w.period(year: year, month: p.month)
        let period = w.bytes.dropFirst().dropLast()
        let source = p.source.rawValue.utf8, status = p.status.rawValue.utf8
        let count = 32 + source.count + status.count  // "rev/PP/YYYY/" + "/YYYY-MM/" + slack
        guard (0...9999).contains(year) else {
            return revisionPrefix + RevisionKey(province: Aggregator.text(p.code), fiscalYear: year, source: p.source,
                                                periodEnd: YearMonth(year: year, month: p.month), status: p.status).description
        }
        // rev/PP/YYYY/SRC/YYYY-MM/status, written straight into the String's storage.
        return String(unsafeUninitializedCapacity: count) { out in
            var i = 0
            func put<S: Sequence<UInt8>>(_ bytes: S) { for b in bytes { out[i] = b; i += 1 } }
            put(revisionPrefix.utf8)
            put([UInt8(ascii: "0") + UInt8(p.code / 10), UInt8(ascii: "0") + UInt8(p.code % 10), UInt8(ascii: "/")])
            put(period.prefix(4)); put(CollectionOfOne(UInt8(ascii: "/")))
            put(source); put(CollectionOfOne(UInt8(ascii: "/")))
            put(period); put(CollectionOfOne(UInt8(ascii: "/")))
            put(status)
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

    static func encode(_ h: HeldRevision) -> [UInt8] {
        var w = BinaryWriter()
        w.bytes.reserveCapacity(64)
        w.byte(format)
        w.int(h.revision); w.int(h.accepted)
        w.uint(UInt64(truncatingIfNeeded: h.digest >> 64)); w.uint(UInt64(truncatingIfNeeded: h.digest))
        w.int(h.plan); w.int(h.executed)
        w.byte((h.hasAdvanced ? 1 : 0) | (h.estimate ? 2 : 0))
        if h.hasAdvanced { w.int(h.advanced) }
        return w.bytes
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
        return HeldRevision(revision: revision, accepted: accepted, digest: digest, plan: plan, executed: executed,
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
                l0 = ((l0 ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))) &* m0).rotatedLeft(27)
                l1 = ((l1 ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))) &* m1).rotatedLeft(31)
                l2 = ((l2 ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))) &* m0).rotatedLeft(29)
                l3 = ((l3 ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))) &* m1).rotatedLeft(33)
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

/// Varint-based writer: unsigned LEB128, zigzag for signed, length-prefixed strings.
struct BinaryWriter {
    var bytes: [UInt8] = []
    mutating func byte(_ b: UInt8) { bytes.append(b) }
    mutating func uint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func int(_ v: Int64) { uint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }
    mutating func string(_ s: String) { uint(UInt64(s.utf8.count)); bytes.append(contentsOf: s.utf8) }
    /// Writes whether `v` is present and returns it; the caller then writes the value.
    mutating func flag<T>(_ v: T?) -> Bool {
        byte(v == nil ? 0 : 1)
        return v != nil
    }
}

struct BinaryReader {
    struct Failure: Error { let problem: String; init(_ p: String) { problem = p } }
    private let bytes: [UInt8]
    private var at = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var atEnd: Bool { at == bytes.count }

    mutating func byte() throws(Failure) -> UInt8 {
        guard at < bytes.count else { throw Failure("truncated") }
        defer { at += 1 }
        return bytes[at]
    }
    mutating func uint() throws(Failure) -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw Failure("varint too long") }
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }
    mutating func int() throws(Failure) -> Int64 {
        let u = try uint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }
    mutating func raw(_ n: Int) throws(Failure) -> [UInt8] {
        guard n >= 0, n <= bytes.count - at else { throw Failure("truncated") }
        defer { at += n }
        return Array(bytes[at..<at + n])
    }
    mutating func string() throws(Failure) -> String {
        let b = try raw(Int(clamping: try uint()))
        guard let s = String(validating: b, as: UTF8.self) else { throw Failure("invalid UTF-8") }
        return s
    }
    /// Reads a presence flag written by `BinaryWriter.flag`.
    mutating func flag() throws(Failure) -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw Failure("bad presence flag")
        }
    }
}
