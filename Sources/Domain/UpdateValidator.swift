/// The top-level members the contract names, in its table order (the order checks report in).
enum UpdateField: Int, CaseIterable {
    case schema, reportID, province, fiscalYear, periodEnd, source, status, planVND, executedVND, revision,
        reportedAt, advancedVND, activities, consulting

    static let requiredCount = 11  // schema … reported_at

    var wireName: String { MemberNames.top.name(rawValue) }
    var pointer: String { "/" + wireName }
}

/// Wire names, in slot order.
enum MemberNames {
    static let top = NameTable([
        "schema", "report_id", "province", "fiscal_year", "period_end", "source", "status", "plan_vnd",
        "executed_vnd", "revision", "reported_at", "advanced_vnd", "activities", "consulting",
    ])
    /// Activity item slots: 0 category, 1 executed_vnd (both required), 2 projects, 3 beneficiaries.
    static let activity = NameTable(["category", "executed_vnd", "projects", "beneficiaries"])
    /// Consulting slots: 0 projects, 1 revenue_vnd (both required).
    static let consulting = NameTable(["projects", "revenue_vnd"])
    static let categories = NameTable(ActivityCategory.allCases.map(\.rawValue))
    static let sources = NameTable(FundingSource.allCases.map(\.rawValue))
    static let statuses = NameTable(ReportStatus.allCases.map(\.rawValue))
    static let schema: [UInt8] = Array(ExecutionUpdateDecoder.schemaName.utf8)
}

/// `MemberNames` in one object, so a hot path reaches them through one reference instead of a
/// lazy global's once-check per access.
final class MemberNameTables: Sendable {
    let top = MemberNames.top
    let activity = MemberNames.activity
    let consulting = MemberNames.consulting
    let categories = MemberNames.categories
    let sources = MemberNames.sources
    let statuses = MemberNames.statuses
    let schema = MemberNames.schema
}

/// A fixed list of names as raw bytes for allocation-free matching. The bytes are allocated
/// once for the process's lifetime (tables are static) and never written after init.
struct NameTable: @unchecked Sendable {
    private let names: [UnsafeRawBufferPointer]
    private let hashes: [Int32]

    init(_ strings: [String]) {
        names = strings.map { s in
            let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(s.utf8.count, 1), alignment: 1)
            bytes.copyBytes(from: s.utf8)
            return UnsafeRawBufferPointer(rebasing: bytes[0..<s.utf8.count])
        }
        hashes = names.map(JSONTape.nameHash)
    }

    func index(of value: UnsafeRawBufferPointer) -> Int? {
        for (i, name) in names.enumerated() where JSONTape.bytesEqual(name, value) { return i }
        return nil
    }

    /// `index(of:)`, trying `expected` first (senders mostly write members in the contract's order).
    func index(of value: UnsafeRawBufferPointer, expected: Int) -> Int? {
        if expected < names.count, JSONTape.bytesEqual(names[expected], value) { return expected }
        return index(of: value)
    }

    /// The index of a key node's name (its hash was computed by the parser). `expected` is
    /// tried first: senders mostly write members in the contract's order.
    func index(ofKey k: Int, in tape: JSONTape, expected: Int) -> Int? {
        let h = tape.nodes[k].count
        func matches(_ i: Int) -> Bool { hashes[i] == h && tape.withString(k, { JSONTape.bytesEqual(names[i], $0) }) }
        if expected < hashes.count, matches(expected) { return expected }
        for i in hashes.indices where matches(i) { return i }
        return nil
    }

    func name(_ i: Int) -> String { String(decoding: names[i], as: UTF8.self) }
}

/// Node indices of an object's named members (nil when absent); no allocation.
struct MemberSlots {
    private var storage: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) =
        (-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)

    subscript(_ i: Int) -> Int? {
        get {
            let v = withUnsafeBytes(of: storage) { $0.load(fromByteOffset: i * MemoryLayout<Int>.stride, as: Int.self) }
            return v < 0 ? nil : v
        }
        set {
            withUnsafeMutableBytes(of: &storage) {
                $0.storeBytes(of: newValue ?? -1, toByteOffset: i * MemoryLayout<Int>.stride, as: Int.self)
            }
        }
    }

    subscript(_ f: UpdateField) -> Int? { self[f.rawValue] }
}

/// The largest `revision` the contract allows (2^53 − 1).
let maxRevision: Int64 = (1 << 53) - 1

/// One validation run over a parsed message: the contract's steps 3–10, each over the whole
/// message before the next. Pointers and sentences are only built on failure.
struct UpdateValidator {
    let tape: JSONTape
    let key: UnsafeRawBufferPointer?
    /// The unit of the per-province topic the message came from; nil: the shared topic.
    let topicUnit: String?
    let provinces: KnownProvinces
    var top = MemberSlots()
    /// Every element of `activities` (when it is an array); slots only for object elements.
    var items: [(node: Int, slots: MemberSlots)] = []
    /// `consulting`'s slots when it is an object.
    var consultingSlots: MemberSlots?
    /// The period, once `check` has passed.
    private(set) var period = YearMonth(year: 0, month: 0)

    init(tape: JSONTape, key: UnsafeRawBufferPointer?, topicUnit: String? = nil, provinces: KnownProvinces) {
        self.tape = tape
        self.key = key
        self.topicUnit = topicUnit
        self.provinces = provinces
    }

    func kind(_ i: Int) -> JSONTape.Kind { tape.nodes[i].kind }
    func isInteger(_ i: Int) -> Bool { tape.nodes[i].kind == .number && tape.nodes[i].flag }

    /// A value as it was sent (strings with their quotes), for detail sentences.
    func shown(_ i: Int) -> String { RejectionText.shown(tape.text(i)) }

    func fail(_ reason: RejectionReason, _ pointer: String?, _ detail: String) -> Rejection {
        Rejection(reason: reason, field: pointer, detail: detail)
    }

    /// `invalid_field` at `pointer`: what was expected and the value as sent.
    func invalid(_ pointer: String, _ expectation: String, _ node: Int) -> Rejection {
        fail(.invalidField, pointer, RejectionText.received(expectation, shown(node)))
    }

    func collect(_ object: Int, _ names: NameTable) -> MemberSlots {
        var slots = MemberSlots()
        var expected = 0
        tape.forEachChild(object) { k, v in
            guard let i = names.index(ofKey: k, in: tape, expected: expected) else { return }
            slots[i] = v
            expected = i + 1
        }
        return slots
    }

    /// Index of a string node's value in `names`, or nil.
    func match(_ i: Int, _ names: NameTable) -> Int? {
        guard kind(i) == .string else { return nil }
        return tape.withString(i, names.index(of:))
    }

    /// Every check in the contract's order; `period` is set once they all pass.
    mutating func check() throws(Rejection) {
        // 3. schema_mismatch
        guard kind(0) == .object else {
            throw fail(.schemaMismatch, nil, RejectionText.received(RejectionText.notAnObject, shown(0)))
        }
        top = collect(0, MemberNames.top)
        if let s = top[.schema], !(kind(s) == .string && tape.stringEquals(s, MemberNames.schema)) {
            throw fail(.schemaMismatch, "/schema", RejectionText.received(RejectionText.wrongSchema, shown(s)))
        }
        if let a = top[.activities], kind(a) == .array {
            items.reserveCapacity(Int(tape.nodes[a].count))
            tape.forEachChild(a) { _, v in
                items.append((v, kind(v) == .object ? collect(v, MemberNames.activity) : MemberSlots()))
            }
        }
        if let c = top[.consulting], kind(c) == .object { consultingSlots = collect(c, MemberNames.consulting) }

        try checkPresence()
        try checkForms()
        try checkAmounts()
        let period = try checkPeriod()
        try checkKey()
        try checkRegistry(period)
        try checkActivitiesSum()
        self.period = period
    }

    // 4. missing_field: top level, then inside each activity object, then consulting.
    func checkPresence() throws(Rejection) {
        for f in UpdateField.allCases.prefix(UpdateField.requiredCount) where top[f] == nil {
            throw fail(.missingField, f.pointer, RejectionText.missing(f.wireName, in: nil))
        }
        for (index, item) in items.enumerated() where kind(item.node) == .object {
            for slot in 0..<2 where item.slots[slot] == nil {
                let name = MemberNames.activity.name(slot)
                throw fail(
                    .missingField, "/activities/\(index)/\(name)",
                    RejectionText.missing(name, in: "activities/\(index)"))
            }
        }
        if let c = consultingSlots {
            for slot in 0..<2 where c[slot] == nil {
                let name = MemberNames.consulting.name(slot)
                throw fail(.missingField, "/consulting/\(name)", RejectionText.missing(name, in: "consulting"))
            }
        }
    }

    // 5. invalid_field
    func checkForms() throws(Rejection) {
        func string(_ f: UpdateField, _ valid: (UnsafeRawBufferPointer) -> Bool, _ expectation: String)
            throws(Rejection)
        {
            guard let i = top[f] else { return }
            guard kind(i) == .string, tape.withString(i, valid) else { throw invalid(f.pointer, expectation, i) }
        }
        func integer(_ i: Int?, _ pointer: @autoclosure () -> String, _ name: @autoclosure () -> String)
            throws(Rejection)
        {
            guard let i, !isInteger(i) else { return }
            throw fail(.invalidField, pointer(), RejectionText.notInteger(name(), shown(i)))
        }
        func topInteger(_ f: UpdateField) throws(Rejection) { try integer(top[f], f.pointer, f.wireName) }

        try string(.reportID, Forms.isReportID, RejectionText.reportIDForm)
        try string(.province, Forms.isProvinceCode, RejectionText.provinceForm)
        try topInteger(.fiscalYear)
        try string(.periodEnd, Forms.isYearMonthForm, RejectionText.periodEndForm)
        if let i = top[.source], match(i, MemberNames.sources) == nil {
            throw invalid("/source", RejectionText.sourceValues, i)
        }
        if let i = top[.status], match(i, MemberNames.statuses) == nil {
            throw invalid("/status", RejectionText.statusValues, i)
        }
        try topInteger(.planVND)
        try topInteger(.executedVND)
        if let i = top[.revision], !(isInteger(i) && (1...maxRevision).contains(tape.integerValue(i))) {
            throw invalid("/revision", RejectionText.revisionRange, i)
        }
        try string(.reportedAt, Forms.isRFC3339DateTime, RejectionText.reportedAtForm)
        try topInteger(.advancedVND)
        if let a = top[.activities], kind(a) != .array {
            throw invalid("/activities", RejectionText.activitiesForm, a)
        }
        for (index, item) in items.enumerated() {
            guard kind(item.node) == .object else {
                throw fail(
                    .invalidField, "/activities/\(index)", RejectionText.badActivityItem(index, shown(item.node)))
            }
            if let c = item.slots[0], match(c, MemberNames.categories) == nil {
                throw invalid("/activities/\(index)/category", RejectionText.categoryValues, c)
            }
            for slot in 1..<4 {
                try integer(
                    item.slots[slot], "/activities/\(index)/" + MemberNames.activity.name(slot),
                    MemberNames.activity.name(slot))
            }
        }
        if let c = top[.consulting], kind(c) != .object {
            throw invalid("/consulting", RejectionText.consultingForm, c)
        }
        if let c = consultingSlots {
            for slot in 0..<2 {
                try integer(
                    c[slot], "/consulting/" + MemberNames.consulting.name(slot), MemberNames.consulting.name(slot))
            }
        }
    }

    // 6. amount_out_of_range: amounts and counts in 0 … 10^15.
    func checkAmounts() throws(Rejection) {
        func inRange(_ i: Int?, _ pointer: @autoclosure () -> String, _ name: @autoclosure () -> String, count: Bool)
            throws(Rejection)
        {
            guard let i else { return }
            let v = tape.integerValue(i)
            guard v < 0 || v > Money.maxAmount else { return }
            throw fail(.amountOutOfRange, pointer(), RejectionText.outOfRange(name(), shown(i), count: count))
        }
        try inRange(top[.planVND], "/plan_vnd", "plan_vnd", count: false)
        try inRange(top[.executedVND], "/executed_vnd", "executed_vnd", count: false)
        try inRange(top[.advancedVND], "/advanced_vnd", "advanced_vnd", count: false)
        for (index, item) in items.enumerated() {
            for slot in 1..<4 {
                try inRange(
                    item.slots[slot], "/activities/\(index)/" + MemberNames.activity.name(slot),
                    MemberNames.activity.name(slot), count: slot > 1)
            }
        }
        if let c = consultingSlots {
            try inRange(c[0], "/consulting/projects", "projects", count: true)
            try inRange(c[1], "/consulting/revenue_vnd", "revenue_vnd", count: false)
        }
    }

    // 7. period_out_of_range
    func checkPeriod() throws(Rejection) -> YearMonth {
        guard let fy = top[.fiscalYear], let pe = top[.periodEnd] else { return YearMonth(year: 0, month: 0) }
        let year = tape.integerValue(fy)
        guard FiscalYear.range.contains(Int(year)) else {
            throw fail(
                .periodOutOfRange, "/fiscal_year", RejectionText.received(RejectionText.fiscalYearRange, shown(fy)))
        }
        let (periodYear, month) = tape.withString(pe) { s in
            (Forms.number(s[0..<4]), Forms.number(s[5..<7]))
        }
        guard (1...12).contains(month) else {
            throw fail(.periodOutOfRange, "/period_end", RejectionText.received(RejectionText.monthRange, shown(pe)))
        }
        guard periodYear == Int(year) else {
            throw fail(.periodOutOfRange, "/period_end", RejectionText.yearMismatch(periodYear, Int(year)))
        }
        return YearMonth(year: periodYear, month: month)
    }

    // 8. key_mismatch
    func checkKey() throws(Rejection) {
        guard let p = top[.province] else { return }
        let equal = tape.withString(p) { province in key.map { $0.elementsEqual(province) } }
        guard let equal else { throw fail(.keyMismatch, nil, RejectionText.keyAbsent(tape.string(p))) }
        guard equal else {
            throw fail(
                .keyMismatch, "/province",
                RejectionText.keyDiffers(
                    key: Array(key ?? UnsafeRawBufferPointer(start: nil, count: 0)), province: tape.string(p)))
        }
        // Per-province topics: the broker lets only this unit write its topic, so a report of
        // another unit there is a forgery (or a misrouted sender), whatever its key says.
        if let unit = topicUnit, !tape.withString(p, { $0.elementsEqual(unit.utf8) }) {
            throw fail(.keyMismatch, "/province", RejectionText.topicDiffers(topicUnit: unit, province: tape.string(p)))
        }
    }

    // 9. unknown_province: a unit of the registry in force at period_end.
    func checkRegistry(_ period: YearMonth) throws(Rejection) {
        guard let p = top[.province] else { return }
        let code = tape.withString(p) { Forms.number($0) }
        guard provinces.isKnown(code, at: period) else {
            let registry = provinces.registries.inForce(at: period)
            throw fail(
                .unknownProvince, "/province",
                RejectionText.unknownProvince(tape.string(p), registry: registry, period: period))
        }
    }

    // 10. activities_mismatch: the items' executed_vnd add up to executed_vnd (empty array: 0).
    func checkActivitiesSum() throws(Rejection) {
        guard top[.activities] != nil, let e = top[.executedVND] else { return }
        var sum: Int64 = 0
        var overflow = false
        for item in items {
            let (s, o) = sum.addingReportingOverflow(item.slots[1].map { tape.integerValue($0) } ?? 0)
            sum = s
            overflow = overflow || o
        }
        let executed = tape.integerValue(e)
        if overflow || sum != executed {
            throw fail(
                .activitiesMismatch, "/activities",
                RejectionText.activitiesMismatch(sum: overflow ? nil : sum, executed: executed))
        }
    }

    func activity(_ item: (node: Int, slots: MemberSlots)) -> Activity {
        Activity(
            category: item.slots[0].flatMap { match($0, MemberNames.categories) }.map { ActivityCategory.allCases[$0] }
                ?? .training,
            executedVND: item.slots[1].map { tape.integerValue($0) } ?? 0,
            projects: item.slots[2].map { tape.integerValue($0) },
            beneficiaries: item.slots[3].map { tape.integerValue($0) })
    }

    /// Builds the update once every check has passed (from the same readings as the digest).
    func build() -> ExecutionUpdate {
        func str(_ f: UpdateField) -> String { top[f].map { tape.string($0) } ?? "" }
        return ExecutionUpdate(
            reportID: str(.reportID), province: str(.province), fiscalYear: fiscalYear, periodEnd: periodEnd,
            source: source, status: status, planVND: planVND, executedVND: executedVND, revision: revision,
            reportedAt: str(.reportedAt), advancedVND: advancedVND,
            activities: activityCount.map { (0..<$0).map(activity) }, consulting: consulting)
    }

    /// The facts of a message that passed every check, without building its strings.
    func facts() -> ReportFacts {
        ReportFacts(self, code: top[.province].map { tape.withString($0) { Forms.number($0) } } ?? -1)
    }
}

/// A message that passed every check, read from its parse as `ContentDigest` needs it.
extension UpdateValidator: DigestSource {
    private func int(_ i: Int?) -> Int64 { i.map { tape.integerValue($0) } ?? 0 }

    var fiscalYear: Int { period.year }
    var periodEnd: YearMonth { period }
    var source: FundingSource {
        top[.source].flatMap { match($0, MemberNames.sources) }.map { FundingSource.allCases[$0] } ?? .kcqg
    }
    var status: ReportStatus {
        top[.status].flatMap { match($0, MemberNames.statuses) }.map { ReportStatus.allCases[$0] } ?? .estimate
    }
    var planVND: Int64 { int(top[.planVND]) }
    var executedVND: Int64 { int(top[.executedVND]) }
    var revision: Int64 { int(top[.revision]) }
    var advancedVND: Int64? { top[.advancedVND].map { tape.integerValue($0) } }
    var consulting: Consulting? { consultingSlots.map { Consulting(projects: int($0[0]), revenueVND: int($0[1])) } }
    var activityCount: Int? { top[.activities].map { _ in items.count } }
    func activity(_ i: Int) -> Activity { activity(items[i]) }

    func withStrings<R>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> R) -> R {
        func string<T>(_ f: UpdateField, _ next: (UnsafeRawBufferPointer) -> T) -> T {
            guard let i = top[f] else { return next(UnsafeRawBufferPointer(start: nil, count: 0)) }
            return tape.withString(i, next)
        }
        return string(.reportID) { a in string(.province) { b in string(.reportedAt) { c in body(a, b, c) } } }
    }
}
