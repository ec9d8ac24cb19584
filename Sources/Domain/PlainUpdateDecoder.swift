/// The common message, decoded in one pass over its bytes without a tape: what almost every
/// sender writes (compact or spaced JSON, the contract's members only, no escapes, ASCII,
/// non-negative integers). It returns the facts only when the message is valid; anything else,
/// valid or not, gives nil and the full decoder (`JSONTape` and `UpdateValidator`) decides and
/// words the rejection. So it can only ever accept what the full decoder accepts, with the same
/// facts: `DecoderInvariants` and `PlainUpdateDecoderTests` hold it to that.
///
/// Why: the tape, its checks and the validator's passes cost ~1.2 µs per update, a third of the
/// worker's CPU; one pass over ~400 bytes needs a fraction of that.
struct PlainUpdateDecoder {
    /// Activity items kept inline; a message with more goes to the full decoder.
    static let maxActivities = 8

    private let p: UnsafeRawBufferPointer
    private let names: MemberNameTables
    private var i = 0
    /// One bit per `UpdateField` seen (duplicates go to the full decoder).
    private var seen: UInt16 = 0
    private var reportID = 0..<0
    private var province = 0..<0
    private var reportedAt = 0..<0
    // What `DigestSource` reads, under its names.
    private(set) var fiscalYear = 0
    private var month = 0
    private var periodYear = 0
    private(set) var source = FundingSource.kcqg
    private(set) var status = ReportStatus.estimate
    private(set) var planVND: Int64 = 0
    private(set) var executedVND: Int64 = 0
    private(set) var revision: Int64 = 0
    private(set) var advancedVND: Int64?
    private(set) var consulting: Consulting?
    private var items = InlineActivities()
    private var hasActivities = false

    private init(_ p: UnsafeRawBufferPointer, names: MemberNameTables) {
        self.p = p
        self.names = names
    }

    /// The facts of a valid plain message, or nil (see the type's comment).
    static func facts(
        payload: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer?, topicUnit: String?, provinces: KnownProvinces
    ) -> ReportFacts? {
        guard payload.count <= ExecutionUpdateDecoder.maxPayloadBytes, payload.baseAddress != nil else { return nil }
        var d = PlainUpdateDecoder(payload, names: provinces.names)
        guard d.readTop(), d.checkMeaning(key: key, topicUnit: topicUnit, provinces: provinces) else { return nil }
        return ReportFacts(d, code: Forms.number(d.bytes(d.province)))
    }

    private func bytes(_ r: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: p[r]) }

    // MARK: - Syntax

    private mutating func skipWhitespace() {
        while i < p.count {
            switch p[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    /// Skips whitespace, then consumes `byte` if it comes next.
    private mutating func eat(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard i < p.count, p[i] == byte else { return false }
        i += 1
        return true
    }

    /// A string of ASCII without escapes or control characters; its contents' range. Scans 8
    /// bytes at a time (SWAR, `JSONTape.plainWords`), as the strict parser does.
    private mutating func plainString() -> Range<Int>? {
        guard eat(UInt8(ascii: "\"")), let base = p.baseAddress else { return nil }
        let start = i
        var j = JSONTape.plainWords(base, count: p.count, from: i)
        while j < p.count {
            let b = p[j]
            if b == UInt8(ascii: "\"") {
                i = j + 1
                return start..<j
            }
            guard b >= 0x20, b < 0x80, b != UInt8(ascii: "\\") else { return nil }
            j += 1
        }
        return nil
    }

    /// A non-negative integer without fraction or exponent, at most 18 digits.
    private mutating func integer() -> Int64? {
        skipWhitespace()
        let start = i
        var value: Int64 = 0
        while i < p.count, Forms.isDigit(p[i]) {
            value = value &* 10 &+ Int64(p[i] &- 0x30)
            i += 1
        }
        let n = i - start
        guard n >= 1, n <= 18, n == 1 || p[start] != UInt8(ascii: "0") else { return nil }
        // A fraction, an exponent or a stray byte after the digits: not plain.
        guard i < p.count, p[i] != UInt8(ascii: "."), p[i] | 0x20 != UInt8(ascii: "e") else { return nil }
        return value
    }

    private mutating func amount() -> Int64? {
        guard let v = integer(), v <= Money.maxAmount else { return nil }
        return v
    }

    /// Opens an object: nil when none comes next, true when it is `{}`.
    private mutating func openObject() -> Bool? {
        guard eat(UInt8(ascii: "{")) else { return nil }
        return eat(UInt8(ascii: "}"))
    }

    /// A member's name and its colon.
    private mutating func memberName() -> UnsafeRawBufferPointer? {
        guard let name = plainString(), eat(UInt8(ascii: ":")) else { return nil }
        return bytes(name)
    }

    /// After a member's value: true when another member follows, false when the object closed,
    /// nil when neither comes next.
    private mutating func nextMember() -> Bool? {
        if eat(UInt8(ascii: ",")) { return true }
        return eat(UInt8(ascii: "}")) ? false : nil
    }

    // MARK: - Members

    private mutating func readTop() -> Bool {
        guard let empty = openObject() else { return false }
        var more = !empty
        var expected = 0
        while more {
            guard let name = memberName(), let f = names.top.index(of: name, expected: expected),
                first(UInt16(1) << f), let field = UpdateField(rawValue: f), value(of: field),
                let next = nextMember()
            else { return false }
            expected = f + 1
            more = next
        }
        skipWhitespace()
        return i == p.count
    }

    /// Records a member in `seen`; false when it was seen before.
    private mutating func first(_ bit: UInt16) -> Bool {
        guard seen & bit == 0 else { return false }
        seen |= bit
        return true
    }

    private mutating func value(of field: UpdateField) -> Bool {
        switch field {
        case .schema:
            guard let s = plainString() else { return false }
            return names.schema.withUnsafeBytes { JSONTape.bytesEqual(bytes(s), $0) }
        case .reportID:
            guard let s = plainString(), Forms.isReportID(bytes(s)) else { return false }
            reportID = s
        case .province:
            guard let s = plainString(), Forms.isProvinceCode(bytes(s)) else { return false }
            province = s
        case .fiscalYear:
            guard let v = integer() else { return false }
            fiscalYear = Int(v)
        case .periodEnd:
            guard let s = plainString(), Forms.isYearMonthForm(bytes(s)) else { return false }
            periodYear = Forms.number(bytes(s)[0..<4])
            month = Forms.number(bytes(s)[5..<7])
        case .source:
            guard let s = plainString(), let k = names.sources.index(of: bytes(s)) else { return false }
            source = FundingSource.allCases[k]
        case .status:
            guard let s = plainString(), let k = names.statuses.index(of: bytes(s)) else { return false }
            status = ReportStatus.allCases[k]
        case .planVND:
            guard let v = amount() else { return false }
            planVND = v
        case .executedVND:
            guard let v = amount() else { return false }
            executedVND = v
        case .revision:
            guard let v = integer(), (1...maxRevision).contains(v) else { return false }
            revision = v
        case .reportedAt:
            guard let s = plainString(), Forms.isRFC3339DateTime(bytes(s)) else { return false }
            reportedAt = s
        case .advancedVND:
            guard let v = amount() else { return false }
            advancedVND = v
        case .activities:
            hasActivities = true
            return readActivities()
        case .consulting:
            return readConsulting()
        }
        return true
    }

    private mutating func readActivities() -> Bool {
        guard eat(UInt8(ascii: "[")) else { return false }
        if eat(UInt8(ascii: "]")) { return true }
        while true {
            guard items.count < Self.maxActivities, let item = readActivity() else { return false }
            items.append(item)
            if eat(UInt8(ascii: ",")) { continue }
            return eat(UInt8(ascii: "]"))
        }
    }

    private mutating func readActivity() -> Activity? {
        guard let empty = openObject() else { return nil }
        var more = !empty
        var mask: UInt8 = 0
        var item = Activity(category: .training, executedVND: 0)
        while more {
            guard let name = memberName(),
                let slot = names.activity.index(of: name, expected: Int(mask.nonzeroBitCount)),
                mask & (1 << slot) == 0
            else { return nil }
            mask |= 1 << slot
            if slot == 0 {
                guard let s = plainString(), let k = names.categories.index(of: bytes(s)) else { return nil }
                item.category = ActivityCategory.allCases[k]
            } else {
                guard let v = amount() else { return nil }
                switch slot {
                case 1: item.executedVND = v
                case 2: item.projects = v
                default: item.beneficiaries = v
                }
            }
            guard let next = nextMember() else { return nil }
            more = next
        }
        return mask & 0b11 == 0b11 ? item : nil
    }

    private mutating func readConsulting() -> Bool {
        guard let empty = openObject() else { return false }
        var more = !empty
        var mask: UInt8 = 0
        var c = Consulting(projects: 0, revenueVND: 0)
        while more {
            guard let name = memberName(), let slot = names.consulting.index(of: name), mask & (1 << slot) == 0,
                let v = amount(), let next = nextMember()
            else { return false }
            mask |= 1 << slot
            if slot == 0 { c.projects = v } else { c.revenueVND = v }
            more = next
        }
        guard mask == 0b11 else { return false }
        consulting = c
        return true
    }

    // MARK: - Meaning (the contract's steps 4 and 7–10; forms and ranges were read above)

    private func checkMeaning(key: UnsafeRawBufferPointer?, topicUnit: String?, provinces: KnownProvinces) -> Bool {
        let required: UInt16 = (1 << UpdateField.requiredCount) - 1
        guard seen & required == required,
            FiscalYear.range.contains(fiscalYear), (1...12).contains(month),
            periodYear == fiscalYear
        else { return false }
        let code = bytes(province)
        guard let key, key.elementsEqual(code) else { return false }
        if let topicUnit, !code.elementsEqual(topicUnit.utf8) { return false }
        guard provinces.isKnown(Forms.number(code), at: periodEnd) else { return false }
        guard hasActivities else { return true }
        var sum: Int64 = 0
        for k in 0..<items.count { sum += items[k].executedVND }  // ≤ 8 × 10^15: cannot overflow
        return sum == executedVND
    }
}

extension PlainUpdateDecoder: DigestSource {
    var periodEnd: YearMonth { YearMonth(year: periodYear, month: month) }
    var activityCount: Int? { hasActivities ? items.count : nil }
    func activity(_ k: Int) -> Activity { items[k] }

    func withStrings<R>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> R) -> R {
        body(bytes(reportID), bytes(province), bytes(reportedAt))
    }
}

/// Up to `PlainUpdateDecoder.maxActivities` items without an allocation.
private struct InlineActivities {
    private var storage: (Activity, Activity, Activity, Activity, Activity, Activity, Activity, Activity) =
        (blank, blank, blank, blank, blank, blank, blank, blank)
    private(set) var count = 0
    private static let blank = Activity(category: .training, executedVND: 0)

    mutating func append(_ a: Activity) {
        withUnsafeMutableBytes(of: &storage) {
            $0.storeBytes(of: a, toByteOffset: count * Self.stride, as: Activity.self)
        }
        count += 1
    }

    subscript(_ k: Int) -> Activity {
        withUnsafeBytes(of: storage) { $0.load(fromByteOffset: k * Self.stride, as: Activity.self) }
    }

    private static let stride = MemoryLayout<Activity>.stride
}
