/// A held revision as plain values: the sender's revision, a digest of the whole update (for
/// the duplicate/conflict decision), the figures summaries need, and how many revisions of its
/// key were accepted so far (summary revisions are derived from these counts). No strings, so
/// holding and replacing one costs no reference counting; memory per key is fixed.
struct HeldRevision: Sendable, Hashable {
    /// 0 = no report held.
    var revision: Int64 = 0
    var accepted: Int64 = 0
    var digest: UInt128 = 0
    var plan: Int64 = 0
    var executed: Int64 = 0
    var advanced: Int64 = 0
    var hasAdvanced = false
    var estimate = false

    var present: Bool { revision != 0 }

    init() {}

    init(_ f: ReportFacts, accepted: Int64) {
        self.init(
            revision: f.revision, accepted: accepted, digest: f.digest, plan: f.planVND,
            executed: f.executedVND, advanced: f.advancedVND, estimate: f.status == .estimate)
    }

    init(
        revision: Int64, accepted: Int64, digest: UInt128, plan: Int64, executed: Int64, advanced: Int64?,
        estimate: Bool
    ) {
        self.revision = revision
        self.accepted = accepted
        self.digest = digest
        self.plan = plan
        self.executed = executed
        self.advanced = advanced ?? 0
        self.hasAdvanced = advanced != nil
        self.estimate = estimate
    }
}

/// One source's figure for a unit at some month: a current report, or the sum of a 2025
/// unit's predecessors' reports.
struct SourceFigure: Sendable, Equatable {
    var plan: Int128
    var executed: Int128
    var advanced: Int128?
    /// period_end month (the latest one for a sum).
    var month: Int
    var estimate: Bool

    mutating func add(_ o: SourceFigure) {
        plan += o.plan
        executed += o.executed
        advanced = advanced.map { $0 + (o.advanced ?? 0) } ?? o.advanced
        month = max(month, o.month)
        estimate = estimate || o.estimate
    }
}

/// Held revisions of one fiscal year in flat arrays indexed by province code (00–99), source,
/// month and status, so lookups never hash. About 200 KB per fiscal year with any report.
struct YearRevisions: Sendable {
    static let codes = 100
    static let slotCount = codes * 2 * 12 * 2
    var slots: [HeldRevision] = Array(repeating: HeldRevision(), count: slotCount)
    /// Accepted revisions per code and month (index code*12 + month-1).
    var accepted: [Int64] = Array(repeating: 0, count: codes * 12)
    /// Number of held keys per code and month, for existence checks.
    var heldCount: [Int32] = Array(repeating: 0, count: codes * 12)

    @inline(__always)
    static func index(code: Int, source: FundingSource, month: Int, status: ReportStatus) -> Int {
        ((code * 2 + (source == .kcqg ? 0 : 1)) * 12 + (month - 1)) * 2 + (status == .actual ? 1 : 0)
    }

    /// The slot's revision key parts: (code, source, month, status).
    static func parts(of slot: Int) -> (code: Int, source: FundingSource, month: Int, status: ReportStatus) {
        (slot / 48, (slot / 24) % 2 == 0 ? .kcqg : .kcdp, (slot / 2) % 12 + 1, slot % 2 == 1 ? .actual : .estimate)
    }

    /// The unit's current report for `source` at month m: the greatest period_end in
    /// minMonth…m, actual before estimate (each slot holds its key's highest revision).
    func current(code: Int, source: FundingSource, upTo m: Int, from minMonth: Int) -> SourceFigure? {
        guard m >= minMonth else { return nil }
        for month in stride(from: m, through: minMonth, by: -1) {
            let i = Self.index(code: code, source: source, month: month, status: .estimate)
            let f = slots[i + 1].present ? slots[i + 1] : slots[i]
            if f.present {
                return SourceFigure(
                    plan: Int128(f.plan), executed: Int128(f.executed),
                    advanced: f.hasAdvanced ? Int128(f.advanced) : nil,
                    month: month, estimate: f.estimate)
            }
        }
        return nil
    }

    func acceptedCount(code: Int, months: ClosedRange<Int>) -> Int64 {
        var n: Int64 = 0
        for m in months { n &+= accepted[code * 12 + m - 1] }
        return n
    }

    func hasReport(code: Int, month: Int) -> Bool { heldCount[code * 12 + month - 1] > 0 }

    func latestMonth(code: Int) -> Int? {
        for m in stride(from: 12, through: 1, by: -1) where hasReport(code: code, month: m) { return m }
        return nil
    }
}

/// All held revisions, per fiscal year.
struct RevisionStore: Sendable {
    private(set) var years: [Int: YearRevisions] = [:]
    private(set) var count = 0

    subscript(year: Int) -> YearRevisions? { years[year] }

    enum Offer { case accepted, duplicate, stale, conflict }

    /// The contract's revision-key rules in one in-place access: r > held replaces (accepted),
    /// r = held is a duplicate when the content is the same and a conflict otherwise, r < held
    /// is stale.
    mutating func offer(_ f: ReportFacts) -> Offer {
        let i = YearRevisions.index(code: f.code, source: f.source, month: f.periodEnd.month, status: f.status)
        let cm = f.code * 12 + f.periodEnd.month - 1
        var result = Offer.accepted
        var added = false
        modifyYear(f.fiscalYear) { y in
            let old = y.slots[i]
            var accepted: Int64 = 1
            if old.present {
                if f.revision < old.revision { result = .stale; return }
                if f.revision == old.revision { result = old.digest == f.digest ? .duplicate : .conflict; return }
                accepted = old.accepted + 1
            } else {
                y.heldCount[cm] += 1
                added = true
            }
            y.accepted[cm] &+= 1
            y.slots[i] = HeldRevision(f, accepted: accepted)
        }
        if added { count += 1 }
        return result
    }

    /// Stores `held` at (year, slot), replacing any held revision (restore).
    mutating func set(_ held: HeldRevision, year: Int, slot i: Int) {
        let p = YearRevisions.parts(of: i)
        let cm = p.code * 12 + p.month - 1
        var added = false
        modifyYear(year) { y in
            let old = y.slots[i]
            if old.present {
                y.accepted[cm] &-= old.accepted
            } else {
                y.heldCount[cm] += 1
                added = true
            }
            y.accepted[cm] &+= held.accepted
            y.slots[i] = held
        }
        if added { count += 1 }
    }

    /// Every held revision, by year and slot (for a snapshot).
    func forEachHeld(_ body: (_ year: Int, _ slot: Int, HeldRevision) -> Void) {
        for year in years.keys.sorted() {
            guard let y = years[year] else { continue }
            for (slot, held) in y.slots.enumerated() where held.present { body(year, slot, held) }
        }
    }

    /// The `rev/…` changelog record of one slot.
    func changelogRecord(year: Int, slot: Int) -> ChangelogRecord? {
        guard let held = years[year]?.slots[slot], held.present else { return nil }
        return ChangelogRecord(
            key: ChangelogCodec.revisionKey(year: year, slot: slot), value: ChangelogCodec.encode(held))
    }

    private mutating func modifyYear(_ year: Int, _ body: (inout YearRevisions) -> Void) {
        body(&years[year, default: YearRevisions()])
    }
}

/// A deterministic 128-bit digest of every contract field of an update ("same content" for
/// the duplicate decision): fields are fed as tagged words, strings with their length.
/// Stored in the changelog, so the algorithm must never change.
enum ContentDigest {
    static func of<U: DigestSource>(_ u: U) -> UInt128 {
        var h = WordHasher()
        u.withStrings { reportID, province, reportedAt in
            h.bytes(reportID); h.bytes(province)
            h.word(UInt64(bitPattern: Int64(u.fiscalYear))); h.word(UInt64(u.periodEnd.month))
            h.word(u.source == .kcqg ? 1 : 2); h.word(u.status == .actual ? 1 : 2)
            h.int(u.planVND); h.int(u.executedVND); h.int(u.revision); h.bytes(reportedAt)
        }
        h.optional(u.advancedVND)
        if let count = u.activityCount {
            h.word(UInt64(count) + 1)
            for i in 0..<count {
                let a = u.activity(i)
                h.string(a.category.rawValue); h.int(a.executedVND); h.optional(a.projects); h.optional(a.beneficiaries)
            }
        } else {
            h.word(0)
        }
        if let c = u.consulting { h.word(1); h.int(c.projects); h.int(c.revenueVND) } else { h.word(0) }
        return h.finish()
    }
}

/// The contract fields `ContentDigest` reads: a decoded update, or a validated message read
/// straight from its parse (stage 1 digests without building the update's strings).
protocol DigestSource {
    var fiscalYear: Int { get }
    var periodEnd: YearMonth { get }
    var source: FundingSource { get }
    var status: ReportStatus { get }
    var planVND: Int64 { get }
    var executedVND: Int64 { get }
    var revision: Int64 { get }
    var advancedVND: Int64? { get }
    var consulting: Consulting? { get }
    /// nil when `activities` is absent.
    var activityCount: Int? { get }
    func activity(_ i: Int) -> Activity
    /// `report_id`, `province` and `reported_at` as UTF-8.
    func withStrings<R>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> R) -> R
}

extension ExecutionUpdate: DigestSource {
    var activityCount: Int? { activities?.count }
    func activity(_ i: Int) -> Activity { activities![i] }
    func withStrings<R>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> R) -> R {
        var (a, b, c) = (reportID, province, reportedAt)
        return a.withUTF8 { a in b.withUTF8 { b in c.withUTF8 { c in body(.init(a), .init(b), .init(c)) } } }
    }
}

/// Two independent 64-bit multiply-rotate lanes over words; see `ChangelogCodec.digest`.
struct WordHasher {
    private var a: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var b: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private var n: UInt64 = 0

    @inline(__always)
    mutating func word(_ w: UInt64) {
        a = ((a ^ w) &* 0x87C3_7B91_1142_53D5).rotatedLeft(27)
        b = ((b ^ w) &* 0x4CF5_AD43_2745_937F).rotatedLeft(31) &+ a
        n &+= 1
    }

    mutating func int(_ v: Int64) { word(UInt64(bitPattern: v)) }

    mutating func optional(_ v: Int64?) {
        if let v { word(1); int(v) } else { word(0) }
    }

    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    /// The bytes as little-endian words (the last one zero-padded), then the length.
    mutating func bytes(_ buf: UnsafeRawBufferPointer) {
        var i = 0
        while i + 8 <= buf.count {
            word(UInt64(littleEndian: buf.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            i += 8
        }
        var w: UInt64 = 0
        for j in i..<buf.count { w |= UInt64(buf[j]) << (8 * UInt64(j - i)) }
        word(w)
        word(UInt64(buf.count))
    }

    func finish() -> UInt128 {
        var a = self.a ^ n, b = self.b
        a ^= a >> 33; a = a &* 0xFF51_AFD7_ED55_8CCD; a ^= a >> 33
        b ^= b >> 29; b = b &* 0xC4CE_B9FE_1A85_EC53; b ^= b >> 32
        return UInt128(a) << 64 | UInt128(b)
    }
}

extension UInt64 {
    @inline(__always)
    func rotatedLeft(_ k: UInt64) -> UInt64 { (self << k) | (self >> (64 - k)) }
}
