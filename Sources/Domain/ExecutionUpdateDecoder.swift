/// Decodes and validates one input message against the contract ("Input" and "Rejections").
///
/// The checks run in the contract's order over the whole message and the first failure is
/// reported: size, JSON well-formedness (strict parser, duplicate names at any depth), schema,
/// then every required member's presence, then every member's type and form, then amount
/// ranges, periods, the message key, the registry and finally the activities' sum. Within one
/// step members are checked in the contract's table order (nested members after their parent).
/// `conflicting_revision` needs the held revision and is decided by the aggregation.
public struct ExecutionUpdateDecoder: Sendable {
    /// Largest accepted payload.
    public static let maxPayloadBytes = 65_536
    public static let schemaName = "khuyencong.execution-update.v1"

    public let registries: Registries

    public init(registries: Registries) {
        self.registries = registries
    }

    /// `payload` nil is a tombstone; `key` nil is an absent message key. The buffers are only
    /// read during the call (they may point into a Kafka batch).
    public func decode(payload: UnsafeRawBufferPointer?, key: UnsafeRawBufferPointer?) -> Result<ExecutionUpdate, Rejection> {
        guard let payload else {
            return .failure(Rejection(reason: .malformedJSON, field: nil, detail: RejectionText.tombstone))
        }
        if payload.count > Self.maxPayloadBytes {
            return .failure(Rejection(reason: .tooLarge, field: nil, detail: RejectionText.tooLarge(payload.count)))
        }
        switch JSONTape.parse(payload) {
        case .failure(let error):
            return .failure(RejectionText.malformed(error, payload: payload))
        case .success(let tape):
            var validator = UpdateValidator(tape: tape, key: key, registries: registries)
            do {
                return .success(try validator.run())
            } catch {
                return .failure(error)
            }
        }
    }

    public func decode(payload: [UInt8]?, key: [UInt8]?) -> Result<ExecutionUpdate, Rejection> {
        func withOptional<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
            guard let bytes else { return body(nil) }
            return bytes.withUnsafeBytes { body($0) }
        }
        return withOptional(payload) { p in withOptional(key) { k in decode(payload: p, key: k) } }
    }
}

/// The top-level members the contract names, in its table order.
enum UpdateField: Int, CaseIterable {
    case schema, reportID, province, fiscalYear, periodEnd, source, status, planVND, executedVND, revision,
         reportedAt, advancedVND, activities, consulting

    static let requiredCount = 11 // schema … reported_at

    static let wireNames: [[UInt8]] = [
        "schema", "report_id", "province", "fiscal_year", "period_end", "source", "status", "plan_vnd",
        "executed_vnd", "revision", "reported_at", "advanced_vnd", "activities", "consulting",
    ].map { Array($0.utf8) }

    var wireName: String { String(decoding: Self.wireNames[rawValue], as: UTF8.self) }
    var pointer: String { "/" + wireName }
}

private let activityRequired: [String] = ["category", "executed_vnd"]
private let activityCounts: [String] = ["projects", "beneficiaries"]
private let consultingRequired: [String] = ["projects", "revenue_vnd"]
private let schemaBytes = Array(ExecutionUpdateDecoder.schemaName.utf8)
private let maxRevision: Int64 = (1 << 53) - 1

/// One validation run over a parsed message.
private struct UpdateValidator {
    let tape: JSONTape
    let key: UnsafeRawBufferPointer?
    let registries: Registries
    /// Node index of each top-level member, -1 when absent.
    var slots = [Int](repeating: -1, count: UpdateField.allCases.count)

    init(tape: JSONTape, key: UnsafeRawBufferPointer?, registries: Registries) {
        self.tape = tape
        self.key = key
        self.registries = registries
    }

    func node(_ f: UpdateField) -> Int? {
        let i = slots[f.rawValue]
        return i < 0 ? nil : i
    }

    func kind(_ i: Int) -> JSONTape.Kind { tape.nodes[i].kind }

    /// The value node of a member of `object`, or nil.
    func member(_ object: Int, _ name: String) -> Int? {
        var found: Int?
        let literal = Array(name.utf8)
        tape.forEachChild(object) { k, v in
            if found == nil, tape.stringEquals(k, literal) { found = v }
        }
        return found
    }

    /// Each item of `activities` that is an object, with its index.
    func activityObjects() -> [(index: Int, node: Int)] {
        guard let a = node(.activities), kind(a) == .array else { return [] }
        var items: [(Int, Int)] = []
        tape.forEachChild(a) { _, v in items.append((items.count, v)) }
        return items.filter { kind($0.1) == .object }
    }

    func consultingObject() -> Int? {
        guard let c = node(.consulting), kind(c) == .object else { return nil }
        return c
    }

    func fail(_ reason: RejectionReason, _ pointer: String?, _ detail: String) -> Rejection {
        Rejection(reason: reason, field: pointer, detail: detail)
    }

    /// A value as it was sent (strings with their quotes), for detail sentences.
    func shown(_ i: Int) -> String { RejectionText.shown(tape.text(i)) }

    mutating func run() throws(Rejection) -> ExecutionUpdate {
        // 3. schema_mismatch
        guard kind(0) == .object else {
            throw fail(.schemaMismatch, nil, RejectionText.notAnObject(shown(0)))
        }
        assignSlots()
        if let s = node(.schema), !(kind(s) == .string && tape.stringEquals(s, schemaBytes)) {
            throw fail(.schemaMismatch, "/schema", RejectionText.wrongSchema(shown(s)))
        }
        try checkPresence()
        try checkForms()
        try checkAmounts()
        try checkPeriod()
        try checkKey()
        let update = build()
        // 9. unknown_province
        let registry = registries.inForce(at: update.periodEnd)
        guard registry.unit(update.province) != nil else {
            throw fail(.unknownProvince, "/province",
                       RejectionText.unknownProvince(update.province, registry: registry, period: update.periodEnd))
        }
        // 10. activities_mismatch
        if let activities = update.activities {
            var sum: Int64 = 0
            var overflow = false
            for a in activities {
                let (s, o) = sum.addingReportingOverflow(a.executedVND)
                sum = s
                overflow = overflow || o
            }
            if overflow || sum != update.executedVND {
                throw fail(.activitiesMismatch, "/activities",
                           RejectionText.activitiesMismatch(sum: overflow ? nil : sum, executed: update.executedVND))
            }
        }
        return update
    }

    mutating func assignSlots() {
        tape.forEachChild(0) { k, v in
            let name: [UInt8]? = tape.nodes[k].flag ? tape.stringBytes(k) : nil
            let raw = tape.raw(k)
            for (index, wire) in UpdateField.wireNames.enumerated() {
                let equal = name.map { $0 == wire } ?? (raw.count == wire.count && raw.elementsEqual(wire))
                if equal {
                    slots[index] = v
                    break
                }
            }
        }
    }

    // 4. missing_field: top level, then inside each activity object and consulting.
    func checkPresence() throws(Rejection) {
        for f in UpdateField.allCases.prefix(UpdateField.requiredCount) where node(f) == nil {
            throw fail(.missingField, f.pointer, RejectionText.missing(f.wireName, in: nil))
        }
        for (index, item) in activityObjects() {
            for name in activityRequired where member(item, name) == nil {
                throw fail(.missingField, "/activities/\(index)/\(name)", RejectionText.missing(name, in: "activities/\(index)"))
            }
        }
        if let c = consultingObject() {
            for name in consultingRequired where member(c, name) == nil {
                throw fail(.missingField, "/consulting/\(name)", RejectionText.missing(name, in: "consulting"))
            }
        }
    }

    // 5. invalid_field
    func checkForms() throws(Rejection) {
        func string(_ f: UpdateField, _ valid: ([UInt8]) -> Bool, _ detail: (String) -> String) throws(Rejection) {
            guard let i = node(f) else { return }
            guard kind(i) == .string, valid(tape.stringBytes(i)) else {
                throw fail(.invalidField, f.pointer, detail(shown(i)))
            }
        }
        func integer(_ i: Int, _ pointer: String, _ name: String) throws(Rejection) {
            guard kind(i) == .number, tape.nodes[i].flag else {
                throw fail(.invalidField, pointer, RejectionText.notInteger(name, shown(i)))
            }
        }
        try string(.reportID, Forms.isReportID, RejectionText.badReportID)
        try string(.province, Forms.isProvinceCode, RejectionText.badProvince)
        if let i = node(.fiscalYear) { try integer(i, "/fiscal_year", "fiscal_year") }
        try string(.periodEnd, Forms.isYearMonthForm, RejectionText.badPeriodEnd)
        try string(.source, { FundingSource(rawValue: String(decoding: $0, as: UTF8.self)) != nil }, RejectionText.badSource)
        try string(.status, { ReportStatus(rawValue: String(decoding: $0, as: UTF8.self)) != nil }, RejectionText.badStatus)
        for f in [UpdateField.planVND, .executedVND] {
            if let i = node(f) { try integer(i, f.pointer, f.wireName) }
        }
        if let i = node(.revision) {
            guard kind(i) == .number, tape.nodes[i].flag, (1...maxRevision).contains(tape.integerValue(i)) else {
                throw fail(.invalidField, "/revision", RejectionText.badRevision(shown(i)))
            }
        }
        try string(.reportedAt, Forms.isRFC3339DateTime, RejectionText.badReportedAt)
        if let i = node(.advancedVND) { try integer(i, "/advanced_vnd", "advanced_vnd") }
        if let a = node(.activities) {
            guard kind(a) == .array else { throw fail(.invalidField, "/activities", RejectionText.badActivities(shown(a))) }
            var items: [Int] = []
            tape.forEachChild(a) { _, v in items.append(v) }
            for (index, item) in items.enumerated() {
                let base = "/activities/\(index)"
                guard kind(item) == .object else {
                    throw fail(.invalidField, base, RejectionText.badActivityItem(index, shown(item)))
                }
                if let c = member(item, "category") {
                    guard kind(c) == .string, ActivityCategory(rawValue: tape.string(c)) != nil else {
                        throw fail(.invalidField, base + "/category", RejectionText.badCategory(shown(c)))
                    }
                }
                for name in ["executed_vnd"] + activityCounts {
                    if let v = member(item, name) { try integer(v, base + "/" + name, name) }
                }
            }
        }
        if let c = node(.consulting) {
            guard kind(c) == .object else { throw fail(.invalidField, "/consulting", RejectionText.badConsulting(shown(c))) }
            for name in consultingRequired {
                if let v = member(c, name) { try integer(v, "/consulting/" + name, name) }
            }
        }
    }

    // 6. amount_out_of_range: amounts and counts in 0 … 10^15.
    func checkAmounts() throws(Rejection) {
        func inRange(_ i: Int, _ pointer: String, _ name: String, count: Bool) throws(Rejection) {
            let v = tape.integerValue(i)
            guard v >= 0 && v <= Money.maxAmount else {
                throw fail(.amountOutOfRange, pointer, RejectionText.outOfRange(name, shown(i), count: count))
            }
        }
        for f in [UpdateField.planVND, .executedVND, .advancedVND] {
            if let i = node(f) { try inRange(i, f.pointer, f.wireName, count: false) }
        }
        for (index, item) in activityObjects() {
            for name in ["executed_vnd"] + activityCounts {
                if let v = member(item, name) {
                    try inRange(v, "/activities/\(index)/\(name)", name, count: name != "executed_vnd")
                }
            }
        }
        if let c = consultingObject() {
            for name in consultingRequired {
                if let v = member(c, name) { try inRange(v, "/consulting/" + name, name, count: name == "projects") }
            }
        }
    }

    // 7. period_out_of_range
    func checkPeriod() throws(Rejection) {
        guard let fy = node(.fiscalYear), let pe = node(.periodEnd) else { return }
        let year = tape.integerValue(fy)
        guard (2000...2100).contains(year) else {
            throw fail(.periodOutOfRange, "/fiscal_year", RejectionText.fiscalYearRange(shown(fy)))
        }
        let text = tape.stringBytes(pe)
        let periodYear = Forms.number(text[0..<4]), month = Forms.number(text[5..<7])
        guard (1...12).contains(month) else {
            throw fail(.periodOutOfRange, "/period_end", RejectionText.monthRange(shown(pe)))
        }
        guard periodYear == Int(year) else {
            throw fail(.periodOutOfRange, "/period_end", RejectionText.yearMismatch(periodYear, Int(year)))
        }
    }

    // 8. key_mismatch
    func checkKey() throws(Rejection) {
        guard let p = node(.province) else { return }
        let province = tape.stringBytes(p)
        guard let key else {
            throw fail(.keyMismatch, nil, RejectionText.keyAbsent(String(decoding: province, as: UTF8.self)))
        }
        guard key.elementsEqual(province) else {
            throw fail(.keyMismatch, "/province",
                       RejectionText.keyDiffers(key: Array(key), province: String(decoding: province, as: UTF8.self)))
        }
    }

    /// Builds the update once every form and range has been checked.
    func build() -> ExecutionUpdate {
        func int(_ f: UpdateField) -> Int64 { node(f).map { tape.integerValue($0) } ?? 0 }
        func str(_ f: UpdateField) -> String { node(f).map { tape.string($0) } ?? "" }
        let periodText = tape.stringBytes(node(.periodEnd) ?? 0)
        let activities: [Activity]? = node(.activities).map { a in
            var items: [Activity] = []
            tape.forEachChild(a) { _, item in
                let category = member(item, "category").flatMap { ActivityCategory(rawValue: tape.string($0)) }
                items.append(Activity(
                    category: category ?? .training,
                    executedVND: member(item, "executed_vnd").map { tape.integerValue($0) } ?? 0,
                    projects: member(item, "projects").map { tape.integerValue($0) },
                    beneficiaries: member(item, "beneficiaries").map { tape.integerValue($0) }))
            }
            return items
        }
        let consulting: Consulting? = consultingObject().map { c in
            Consulting(projects: member(c, "projects").map { tape.integerValue($0) } ?? 0,
                       revenueVND: member(c, "revenue_vnd").map { tape.integerValue($0) } ?? 0)
        }
        return ExecutionUpdate(
            reportID: str(.reportID),
            province: str(.province),
            fiscalYear: Int(int(.fiscalYear)),
            periodEnd: YearMonth(year: Forms.number(periodText.prefix(4)), month: Forms.number(periodText.suffix(2))),
            source: FundingSource(rawValue: str(.source)) ?? .kcqg,
            status: ReportStatus(rawValue: str(.status)) ?? .estimate,
            planVND: int(.planVND),
            executedVND: int(.executedVND),
            revision: int(.revision),
            reportedAt: str(.reportedAt),
            advancedVND: node(.advancedVND).map { tape.integerValue($0) },
            activities: activities,
            consulting: consulting)
    }
}
