import Testing
@testable import Domain

/// Adversarial inputs with two or more faults, so the reported reason and pointer show that the
/// contract's check order ("Rejections" 1–11) holds over the whole message, plus boundaries the
/// per-reason cases do not pin down.
@Suite struct CheckOrderAuditTests {
    private static let base = WireMessage()

    struct Case: Sendable, CustomTestStringConvertible {
        let label: String
        let json: String
        var key: String? = "49"
        let reason: RejectionReason?  // nil: accepted
        var field: String? = nil
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(
            label: "schema null is a mismatch, not invalid_field", json: base.with("schema", "null").json,
            reason: .schemaMismatch, field: "/schema"),
        Case(
            label: "schema mismatch before a missing member",
            json: base.with("schema", #""v2""#).without("revision").json,
            reason: .schemaMismatch, field: "/schema"),
        Case(
            label: "escaped schema string is the v1 string",
            json: base.with("schema", #""khuyencong.execution\u002dupdate.v1""#).json, reason: nil),
        Case(
            label: "missing in a later activity before a non-object item",
            json: base.with("activities", #"[1,{"category":"training"}]"#).json,
            reason: .missingField, field: "/activities/1/executed_vnd"),
        Case(
            label: "activities null is invalid, never absent", json: base.with("activities", "null").json,
            reason: .invalidField, field: "/activities"),
        Case(
            label: "consulting null is invalid", json: base.with("consulting", "null").json,
            reason: .invalidField, field: "/consulting"),
        Case(
            label: "invalid category before an amount out of range",
            json: base.with("plan_vnd", "-1").with("activities", #"[{"category":"x","executed_vnd":1211000000}]"#).json,
            reason: .invalidField, field: "/activities/0/category"),
        Case(
            label: "huge negative amount", json: base.with("plan_vnd", "-" + String(repeating: "9", count: 400)).json,
            reason: .amountOutOfRange, field: "/plan_vnd"),
        Case(
            label: "huge revision is a form error",
            json: base.with("revision", String(repeating: "9", count: 400)).json,
            reason: .invalidField, field: "/revision"),
        Case(label: "revision -0", json: base.with("revision", "-0").json, reason: .invalidField, field: "/revision"),
        Case(
            label: "count out of range before the period",
            json: base.with("fiscal_year", "1999").with("consulting", #"{"projects":-1,"revenue_vnd":0}"#).json,
            reason: .amountOutOfRange, field: "/consulting/projects"),
        Case(
            label: "fiscal_year range before month range",
            json: base.with("fiscal_year", "2101").with("period_end", #""2101-13""#).json,
            reason: .periodOutOfRange, field: "/fiscal_year"),
        Case(
            label: "month range before year mismatch", json: base.with("period_end", #""2023-13""#).json,
            reason: .periodOutOfRange, field: "/period_end"),
        Case(
            label: "period before key and registry",
            json: base.with("province", #""99""#).with("period_end", #""2021-07""#).json,
            key: nil, reason: .periodOutOfRange, field: "/period_end"),
        Case(label: "empty key differs", json: base.json, key: "", reason: .keyMismatch, field: "/province"),
        Case(
            label: "key compared byte for byte", json: base.json, key: "49 ", reason: .keyMismatch, field: "/province"),
        Case(
            label: "escaped province equals the key", json: base.with("province", #""\u0034\u0039""#).json,
            reason: nil),
        Case(
            label: "key before activities sum", json: base.with("executed_vnd", "1").json, key: "48",
            reason: .keyMismatch, field: "/province"),
        Case(
            label: "province 00", json: base.with("province", #""00""#).json, key: "00",
            reason: .unknownProvince, field: "/province"),
        Case(
            label: "merged unit reports up to 2025-06",
            json: base.with("fiscal_year", "2025").with("period_end", #""2025-06""#).json, reason: nil),
        Case(
            label: "absorbing unit from 2025-07",
            json: base.with("province", #""48""#).with("fiscal_year", "2025").with("period_end", #""2025-07""#).json,
            key: "48", reason: nil),
        Case(
            label: "merged-away unit after the merger",
            json: base.with("province", #""02""#).with("fiscal_year", "2026").with("period_end", #""2026-01""#).json,
            key: "02", reason: .unknownProvince, field: "/province"),
        Case(
            label: "leap day accepted", json: base.with("reported_at", #""2024-02-29T23:59:59.5-12:00""#).json,
            reason: nil),
        Case(
            label: "hour 24 refused", json: base.with("reported_at", #""2022-08-05T24:00:00Z""#).json,
            reason: .invalidField, field: "/reported_at"),
        Case(
            label: "fullwidth digits are not a period", json: base.with("period_end", "\"２０２２-07\"").json,
            reason: .invalidField, field: "/period_end"),
        Case(
            label: "duplicate inside consulting",
            json: base.with("consulting", #"{"projects":1,"projects":1,"revenue_vnd":0}"#).json,
            reason: .malformedJSON, field: "/consulting/projects"),
    ]

    @Test(arguments: cases)
    func firstFailureIsReported(_ c: Case) {
        let result = Fixtures.decode(c.json, key: c.key)
        #expect(result.failure?.reason == c.reason)
        if c.reason != nil {
            #expect(result.failure?.field == c.field)
            #expect(result.failure?.detail.isEmpty == false)
        }
    }

    /// "Same content" is decided on decoded values: formatting never makes a conflict, while
    /// `reported_at` written differently (same instant) or `[]` against absent `activities` do.
    @Test func revisionContentIsComparedByValue() throws {
        let aggregator = Aggregator(configuration: try .bundled())
        func apply(_ m: WireMessage) throws -> String { try apply(m.json) }
        func apply(_ json: String) throws -> String {
            OracleJSON.outcome(aggregator.apply(try #require(Fixtures.decode(json).success)))
        }
        let zero = Self.base.with("executed_vnd", "0").with("advanced_vnd", "0").without("activities")
        #expect(try apply(zero) == "accepted")
        var reordered = zero
        reordered.members.reverse()
        let reformatted = reordered.json.replacing(
            #""province":"49""#, with: #""province":"\u0034\u0039","ghi_chu":"x""#
        )
        .replacing(#""plan_vnd":10000000000"#, with: #""plan_vnd" : 10000000000"#)
        #expect(try apply(reformatted) == "duplicate")
        #expect(try apply(zero.with("executed_vnd", "-0")) == "duplicate")
        #expect(try apply(zero.with("reported_at", #""2022-08-05T02:30:00Z""#)) == "conflicting_revision")
        #expect(try apply(zero.with("activities", "[]")) == "conflicting_revision")
        #expect(try apply(zero.with("revision", "2").with("plan_vnd", "1")) == "stale")
        #expect(try apply(zero.with("revision", "4")) == "accepted")
        #expect(try apply(zero.with("status", #""estimate""#)) == "accepted")
    }
}
