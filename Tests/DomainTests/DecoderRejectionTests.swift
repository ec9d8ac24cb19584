import Testing
@testable import Domain

struct RejectCase: Sendable, CustomTestStringConvertible {
    let label: String
    let json: String
    var key: String? = "49"
    let reason: RejectionReason
    let field: String?
    let detail: String
    var testDescription: String { label }
}

private let base = WireMessage()

/// Every reason with its pointer and exact detail sentence.
let rejectCases: [RejectCase] = [
    RejectCase(
        label: "not JSON", json: "{\"schema\":", reason: .malformedJSON, field: nil,
        detail: "Bản tin không phải JSON hợp lệ: bản tin kết thúc giữa chừng tại byte 10."),
    RejectCase(
        label: "trailing comma", json: #"{"a":1,}"#, reason: .malformedJSON, field: nil,
        detail: "Bản tin không phải JSON hợp lệ: ký tự '}' không hợp lệ tại byte 7."),
    RejectCase(
        label: "leading zero", json: #"{"a":01}"#, reason: .malformedJSON, field: nil,
        detail: "Bản tin không phải JSON hợp lệ: số sai cú pháp JSON (ví dụ số 0 ở "
            + "đầu, thiếu chữ số) tại byte 5."),
    RejectCase(
        label: "empty", json: "", reason: .malformedJSON, field: nil,
        detail: "Bản tin không phải JSON hợp lệ: bản tin rỗng tại byte 0."),
    RejectCase(
        label: "trailing data", json: "{} {}", reason: .malformedJSON, field: nil,
        detail: "Bản tin không phải JSON hợp lệ: còn dữ liệu sau giá trị JSON tại byte 3."),
    RejectCase(
        label: "lone surrogate", json: #"{"a":"\ud800"}"#, reason: .malformedJSON, field: nil,
        detail: "Bản tin không phải JSON hợp lệ: \\u surrogate không thành cặp tại byte 6."),
    RejectCase(
        label: "raw control character", json: "{\"a\":\"x\ty\"}", reason: .malformedJSON, field: nil,
        detail: "Bản tin không phải JSON hợp lệ: ký tự điều khiển chưa thoát (escape) "
            + "trong chuỗi tại byte 7."),
    RejectCase(
        label: "duplicate top-level member",
        json: base.with("x", "1").json.replacingOccurrences("\"x\":1", "\"province\":\"49\""),
        reason: .malformedJSON, field: "/province",
        detail: "Tên thành viên \"province\" xuất hiện nhiều lần trong cùng một đối "
            + "tượng JSON; mỗi tên chỉ được có một lần."),
    RejectCase(
        label: "duplicate nested member via escape",
        json: base.with(
            "activities",
            #"[{"category":"training","executed_vnd":1211000000},"#
                + #"{"category":"training","execut\u0065d_vnd":1,"executed_vnd":2}]"#
        ).json,
        reason: .malformedJSON, field: "/activities/1/executed_vnd",
        detail: "Tên thành viên \"executed_vnd\" xuất hiện nhiều lần trong cùng một đối "
            + "tượng JSON; mỗi tên chỉ được có một lần."),
    RejectCase(
        label: "duplicate in unknown member with pointer escaping",
        json: base.with("x", #"{"a/b":{"~k":1,"~k":2}}"#).json,
        reason: .malformedJSON, field: "/x/a~1b/~0k",
        detail: "Tên thành viên \"~k\" xuất hiện nhiều lần trong cùng một đối tượng "
            + "JSON; mỗi tên chỉ được có một lần."),
    RejectCase(
        label: "array top level", json: "[1,2]", reason: .schemaMismatch, field: nil,
        detail: "Bản tin phải là một đối tượng JSON {…} theo khuyencong.execution-update.v1; "
            + "nhận được [1,2]."),
    RejectCase(
        label: "other schema", json: base.with("schema", #""khuyencong.execution-update.v2""#).without("province").json,
        reason: .schemaMismatch, field: "/schema",
        detail: "Trường schema phải đúng bằng \"khuyencong.execution-update.v1\"; nhận được "
            + "\"khuyencong.execution-update.v2\"."),
    RejectCase(
        label: "schema not a string", json: base.with("schema", "1").json, reason: .schemaMismatch, field: "/schema",
        detail: "Trường schema phải đúng bằng \"khuyencong.execution-update.v1\"; nhận được 1."),
    RejectCase(
        label: "schema missing", json: base.without("schema").json, reason: .missingField, field: "/schema",
        detail: "Thiếu trường bắt buộc schema; hãy bổ sung theo hợp đồng "
            + "khuyencong.execution-update.v1."),
    RejectCase(
        label: "missing before invalid elsewhere", json: base.with("plan_vnd", "1.5").without("reported_at").json,
        reason: .missingField, field: "/reported_at",
        detail: "Thiếu trường bắt buộc reported_at; hãy bổ sung theo hợp đồng "
            + "khuyencong.execution-update.v1."),
    RejectCase(
        label: "missing nested",
        json: base.with("activities", #"[{"category":"training","executed_vnd":1211000000},{"category":"training"}]"#)
            .json,
        reason: .missingField, field: "/activities/1/executed_vnd",
        detail: "Thiếu trường bắt buộc executed_vnd trong activities/1; hãy bổ sung theo hợp "
            + "đồng khuyencong.execution-update.v1."),
    RejectCase(
        label: "missing consulting member", json: base.with("consulting", #"{"projects":1}"#).json,
        reason: .missingField, field: "/consulting/revenue_vnd",
        detail: "Thiếu trường bắt buộc revenue_vnd trong consulting; hãy bổ sung theo hợp "
            + "đồng khuyencong.execution-update.v1."),
    RejectCase(
        label: "null amount", json: base.with("plan_vnd", "null").json, reason: .invalidField, field: "/plan_vnd",
        detail: "Trường plan_vnd phải là số nguyên JSON (không phải chuỗi hay null, không "
            + "có phần thập phân hay số mũ); nhận được null."),
    RejectCase(
        label: "fraction", json: base.with("executed_vnd", "1.0").json, reason: .invalidField, field: "/executed_vnd",
        detail: "Trường executed_vnd phải là số nguyên JSON (không phải chuỗi hay null, "
            + "không có phần thập phân hay số mũ); nhận được 1.0."),
    RejectCase(
        label: "exponent", json: base.with("fiscal_year", "2e3").json, reason: .invalidField, field: "/fiscal_year",
        detail: "Trường fiscal_year phải là số nguyên JSON (không phải chuỗi hay null, không "
            + "có phần thập phân hay số mũ); nhận được 2e3."),
    RejectCase(
        label: "string amount", json: base.with("plan_vnd", #""10000000000""#).json, reason: .invalidField,
        field: "/plan_vnd",
        detail: "Trường plan_vnd phải là số nguyên JSON (không phải chuỗi hay null, không "
            + "có phần thập phân hay số mũ); nhận được \"10000000000\"."),
    RejectCase(
        label: "invalid before out of range", json: base.with("plan_vnd", "-1").with("advanced_vnd", "null").json,
        reason: .invalidField, field: "/advanced_vnd",
        detail: "Trường advanced_vnd phải là số nguyên JSON (không phải chuỗi hay null, "
            + "không có phần thập phân hay số mũ); nhận được null."),
    RejectCase(
        label: "bad report_id", json: base.with("report_id", #""QN 2022""#).json, reason: .invalidField,
        field: "/report_id",
        detail: "Trường report_id phải là chuỗi 1–128 ký tự, chỉ gồm A–Z, a–z, 0–9 "
            + "và . _ : -; nhận được \"QN 2022\"."),
    RejectCase(
        label: "empty report_id", json: base.with("report_id", #""""#).json, reason: .invalidField, field: "/report_id",
        detail: "Trường report_id phải là chuỗi 1–128 ký tự, chỉ gồm A–Z, a–z, 0–9 "
            + "và . _ : -; nhận được \"\"."),
    RejectCase(
        label: "province not 2 digits", json: base.with("province", "49").json, reason: .invalidField,
        field: "/province",
        detail: "Trường province phải là chuỗi mã tỉnh gồm đúng 2 chữ số (ví dụ "
            + "\"01\"); nhận được 49."),
    RejectCase(
        label: "bad period_end form", json: base.with("period_end", #""2022-7""#).json, reason: .invalidField,
        field: "/period_end",
        detail: "Trường period_end phải là chuỗi dạng YYYY-MM (ví dụ \"2022-07\"); nhận "
            + "được \"2022-7\"."),
    RejectCase(
        label: "bad source", json: base.with("source", #""kcqg""#).json, reason: .invalidField, field: "/source",
        detail: "Trường source phải là \"KCQG\" hoặc \"KCDP\"; nhận được \"kcqg\"."),
    RejectCase(
        label: "bad status", json: base.with("status", #""final""#).json, reason: .invalidField, field: "/status",
        detail: "Trường status phải là \"estimate\" (ước thực hiện) hoặc \"actual\" (thực "
            + "hiện); nhận được \"final\"."),
    RejectCase(
        label: "revision 0", json: base.with("revision", "0").json, reason: .invalidField, field: "/revision",
        detail: "Trường revision phải là số nguyên từ 1 đến 9007199254740991 (2^53−1); "
            + "nhận được 0."),
    RejectCase(
        label: "revision 2^53", json: base.with("revision", "9007199254740992").json, reason: .invalidField,
        field: "/revision",
        detail: "Trường revision phải là số nguyên từ 1 đến 9007199254740991 (2^53−1); "
            + "nhận được 9007199254740992."),
    RejectCase(
        label: "timestamp without offset", json: base.with("reported_at", #""2022-08-05T09:30:00""#).json,
        reason: .invalidField, field: "/reported_at",
        detail: "Trường reported_at phải là thời điểm RFC 3339 có múi giờ, ví dụ "
            + "\"2022-08-05T09:30:00+07:00\" hoặc \"2022-08-05T02:30:00Z\"; nhận được "
            + "\"2022-08-05T09:30:00\"."),
    RejectCase(
        label: "activities not array", json: base.with("activities", "{}").json, reason: .invalidField,
        field: "/activities",
        detail: "Trường activities phải là mảng các đối tượng {category, executed_vnd, "
            + "projects?, beneficiaries?}; nhận được {}."),
    RejectCase(
        label: "activity item not object", json: base.with("activities", "[1]").json, reason: .invalidField,
        field: "/activities/0",
        detail: "Phần tử activities/0 phải là đối tượng {category, executed_vnd, projects?, "
            + "beneficiaries?}; nhận được 1."),
    RejectCase(
        label: "unknown category",
        json: base.with("activities", #"[{"category":"tourism","executed_vnd":1211000000}]"#).json,
        reason: .invalidField, field: "/activities/0/category",
        detail: "Trường category phải là một trong: training, capacity_building, "
            + "demonstration_models, cleaner_production, product_development, trade_promotion, "
            + "consulting_information, cluster_linkage; nhận được \"tourism\"."),
    RejectCase(
        label: "fractional count",
        json: base.with("activities", #"[{"category":"training","executed_vnd":1211000000,"projects":1.5}]"#).json,
        reason: .invalidField, field: "/activities/0/projects",
        detail: "Trường projects phải là số nguyên JSON (không phải chuỗi hay null, không "
            + "có phần thập phân hay số mũ); nhận được 1.5."),
    RejectCase(
        label: "consulting not object", json: base.with("consulting", "[]").json, reason: .invalidField,
        field: "/consulting",
        detail: "Trường consulting phải là đối tượng {projects, revenue_vnd}; nhận được []."),
    RejectCase(
        label: "consulting string member", json: base.with("consulting", #"{"projects":"1","revenue_vnd":0}"#).json,
        reason: .invalidField, field: "/consulting/projects",
        detail: "Trường projects phải là số nguyên JSON (không phải chuỗi hay null, không "
            + "có phần thập phân hay số mũ); nhận được \"1\"."),
    RejectCase(
        label: "negative amount", json: base.with("executed_vnd", "-5").json, reason: .amountOutOfRange,
        field: "/executed_vnd",
        detail: "Trường executed_vnd phải là số nguyên không âm, tối đa 10^15 đồng; nhận "
            + "được -5."),
    RejectCase(
        label: "10^15+1", json: base.with("plan_vnd", "1000000000000001").json, reason: .amountOutOfRange,
        field: "/plan_vnd",
        detail: "Trường plan_vnd phải là số nguyên không âm, tối đa 10^15 đồng; nhận "
            + "được 1000000000000001."),
    RejectCase(
        label: "huge digit string", json: base.with("advanced_vnd", String(repeating: "9", count: 400)).json,
        reason: .amountOutOfRange, field: "/advanced_vnd",
        detail: "Trường advanced_vnd phải là số nguyên không âm, tối đa 10^15 đồng; "
            + "nhận được \(String(repeating: "9", count: 60))… (đã cắt: chỉ hiện 60 trên 400 byte)."),
    RejectCase(
        label: "negative count",
        json: base.with("activities", #"[{"category":"training","executed_vnd":1211000000,"beneficiaries":-1}]"#).json,
        reason: .amountOutOfRange, field: "/activities/0/beneficiaries",
        detail: "Trường beneficiaries phải là số đếm nguyên không âm, tối đa 10^15; nhận "
            + "được -1."),
    RejectCase(
        label: "consulting revenue too big",
        json: base.with("consulting", #"{"projects":1,"revenue_vnd":1000000000000001}"#).json,
        reason: .amountOutOfRange, field: "/consulting/revenue_vnd",
        detail: "Trường revenue_vnd phải là số nguyên không âm, tối đa 10^15 đồng; nhận "
            + "được 1000000000000001."),
    RejectCase(
        label: "amount before period", json: base.with("plan_vnd", "-1").with("fiscal_year", "1999").json,
        reason: .amountOutOfRange, field: "/plan_vnd",
        detail: "Trường plan_vnd phải là số nguyên không âm, tối đa 10^15 đồng; nhận được -1."),
    RejectCase(
        label: "fiscal year 1999", json: base.with("fiscal_year", "1999").with("period_end", #""1999-07""#).json,
        reason: .periodOutOfRange, field: "/fiscal_year",
        detail: "Trường fiscal_year phải nằm trong khoảng 2000–2100; nhận được 1999."),
    RejectCase(
        label: "huge fiscal year", json: base.with("fiscal_year", "123456789012345678901234567890").json,
        reason: .periodOutOfRange, field: "/fiscal_year",
        detail: "Trường fiscal_year phải nằm trong khoảng 2000–2100; nhận được "
            + "123456789012345678901234567890."),
    RejectCase(
        label: "month 13", json: base.with("period_end", #""2022-13""#).json, reason: .periodOutOfRange,
        field: "/period_end",
        detail: "Tháng trong period_end phải từ 01 đến 12; nhận được \"2022-13\"."),
    RejectCase(
        label: "month 00", json: base.with("period_end", #""2022-00""#).json, reason: .periodOutOfRange,
        field: "/period_end",
        detail: "Tháng trong period_end phải từ 01 đến 12; nhận được \"2022-00\"."),
    RejectCase(
        label: "year differs", json: base.with("period_end", #""2023-01""#).json, reason: .periodOutOfRange,
        field: "/period_end",
        detail: "Năm của period_end (2023) phải bằng fiscal_year (2022); số liệu lũy kế tính "
            + "từ tháng 1 của năm ngân sách."),
    RejectCase(
        label: "period before key", json: base.with("period_end", #""2023-01""#).json, key: nil,
        reason: .periodOutOfRange,
        field: "/period_end",
        detail: "Năm của period_end (2023) phải bằng fiscal_year (2022); số liệu lũy kế tính "
            + "từ tháng 1 của năm ngân sách."),
    RejectCase(
        label: "key absent", json: base.json, key: nil, reason: .keyMismatch, field: nil,
        detail: "Bản tin không có khóa (message key); khóa phải là mã tỉnh, ở đây là "
            + "\"49\" như trường province."),
    RejectCase(
        label: "key differs", json: base.json, key: "48", reason: .keyMismatch, field: "/province",
        detail: "Khóa bản tin \"48\" khác trường province \"49\"; khóa phải đúng bằng mã "
            + "tỉnh của báo cáo."),
    RejectCase(
        label: "key before registry", json: base.with("province", #""99""#).json, key: "49", reason: .keyMismatch,
        field: "/province",
        detail: "Khóa bản tin \"49\" khác trường province \"99\"; khóa phải đúng bằng mã "
            + "tỉnh của báo cáo."),
    RejectCase(
        label: "unknown 2004 province", json: base.with("province", #""99""#).json, key: "99", reason: .unknownProvince,
        field: "/province",
        detail: "Mã tỉnh \"99\" không thuộc danh mục hành chính 2004 (63 đơn vị, áp dụng "
            + "đến kỳ 2025-06) cho kỳ 2022-07; hãy dùng mã của đơn vị hành chính đang "
            + "có hiệu lực."),
    RejectCase(
        label: "merged province after 2025-07",
        json: base.with("fiscal_year", "2025").with("period_end", #""2025-07""#).json, reason: .unknownProvince,
        field: "/province",
        detail: "Mã tỉnh \"49\" không thuộc danh mục hành chính 2025 (34 đơn vị, áp dụng "
            + "từ kỳ 2025-07) cho kỳ 2025-07; hãy dùng mã của đơn vị hành chính đang "
            + "có hiệu lực."),
    RejectCase(
        label: "malformed before schema", json: #"[{"a":1,"a":2}]"#, reason: .malformedJSON, field: "/0/a",
        detail: "Tên thành viên \"a\" xuất hiện nhiều lần trong cùng một đối tượng "
            + "JSON; mỗi tên chỉ được có một lần."),
    RejectCase(
        label: "nested missing before top-level invalid",
        json: base.with("plan_vnd", #""x""#).with("activities", #"[{"executed_vnd":1211000000}]"#).json,
        reason: .missingField, field: "/activities/0/category",
        detail: "Thiếu trường bắt buộc category trong activities/0; hãy bổ sung theo hợp "
            + "đồng khuyencong.execution-update.v1."),
    RejectCase(
        label: "registry before activities sum",
        json: base.with("province", #""99""#).with("executed_vnd", "5").json, key: "99", reason: .unknownProvince,
        field: "/province",
        detail: "Mã tỉnh \"99\" không thuộc danh mục hành chính 2004 (63 đơn vị, áp dụng "
            + "đến kỳ 2025-06) cho kỳ 2022-07; hãy dùng mã của đơn vị hành chính đang "
            + "có hiệu lực."),
    RejectCase(
        label: "activities do not add up", json: base.with("executed_vnd", "1211000001").json,
        reason: .activitiesMismatch,
        field: "/activities",
        detail: "Tổng executed_vnd của các phần tử activities (1211000000 đồng) phải bằng "
            + "executed_vnd của báo cáo (1211000001 đồng)."),
    RejectCase(
        label: "empty activities count as 0", json: base.with("activities", "[]").json, reason: .activitiesMismatch,
        field: "/activities",
        detail: "Tổng executed_vnd của các phần tử activities (0 đồng) phải bằng "
            + "executed_vnd của báo cáo (1211000000 đồng)."),
]

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String { replacing(a, with: b) }
}

@Suite struct DecoderRejectionTests {
    @Test(arguments: rejectCases)
    func rejects(_ c: RejectCase) {
        let r = Fixtures.rejection(c.json, key: c.key)
        #expect(r?.reason == c.reason)
        #expect(r?.field == c.field)
        #expect(r?.detail == c.detail)
    }

    @Test func everyDecoderReasonIsCovered() {
        let covered = Set(rejectCases.map(\.reason))
        let decoderReasons = Set(RejectionReason.allCases).subtracting([.conflictingRevision, .tooLarge])
        #expect(decoderReasons.isSubset(of: covered))
    }

    @Test func tombstoneIsMalformed() {
        let r = Fixtures.decoder.decode(payload: nil as [UInt8]?, key: Array("49".utf8))
        #expect(r.failure?.reason == .malformedJSON)
        #expect(r.failure?.field == nil)
        #expect(
            r.failure?.detail == "Bản tin không có nội dung (null/tombstone); cần gửi một đối "
                + "tượng JSON khuyencong.execution-update.v1.")
        #expect(Fixtures.rejection("null")?.reason == .schemaMismatch)
    }

    @Test func tooLargeIsCheckedFirst() {
        let padding = String(repeating: " ", count: ExecutionUpdateDecoder.maxPayloadBytes - base.json.utf8.count)
        #expect(Fixtures.decode(base.json + padding).success != nil)
        let r = Fixtures.rejection(base.json + padding + " ")
        #expect(r?.reason == .tooLarge)
        #expect(r?.field == nil)
        #expect(
            r?.detail == "Bản tin dài 65537 byte, vượt giới hạn 65536 byte; hãy bỏ bớt các "
                + "trường không thuộc hợp đồng hoặc rút gọn danh sách activities.")
        // Even garbage over the limit is too_large, not malformed_json.
        #expect(Fixtures.rejection(String(repeating: "x", count: 70_000))?.reason == .tooLarge)
    }

    @Test(
        arguments: [
            ([0xC0, 0xAF], 11), ([0xED, 0xA0, 0x80], 11), ([0xF4, 0x90, 0x80, 0x80], 11), ([0xE1, 0x80], 11),
            ([0xFF], 11),
        ] as [([UInt8], Int)])
    func invalidUTF8IsMalformed(_ bad: [UInt8], _ offset: Int) {
        let payload = Array(#"{"schema":""#.utf8) + bad + Array(#""}"#.utf8)
        let r = Fixtures.decoder.decode(payload: payload, key: nil)
        #expect(r.failure?.reason == .malformedJSON)
        #expect(
            r.failure?.detail == "Bản tin không phải UTF-8 hợp lệ (byte sai ở vị trí \(offset)); "
                + "hãy mã hóa bản tin bằng UTF-8.")
    }

    @Test func invalidUTF8OutsideStringsIsReportedAsUTF8() {
        let payload: [UInt8] = [UInt8(ascii: "{"), 0xC3]
        #expect(
            Fixtures.decoder.decode(payload: payload, key: nil).failure?.detail
                == "Bản tin không phải UTF-8 hợp lệ (byte sai ở vị trí 1); hãy mã hóa bản tin "
                + "bằng UTF-8.")
    }

    @Test func byteOrderMarkIsRejected() {
        let r = Fixtures.decoder.decode(payload: [0xEF, 0xBB, 0xBF] + base.bytes, key: Array("49".utf8))
        #expect(r.failure?.reason == .malformedJSON)
    }

    @Test func deepNestingDoesNotOverflowTheStack() {
        let deep = String(repeating: "[", count: 30_000) + String(repeating: "]", count: 30_000)
        #expect(Fixtures.decode(base.with("x", deep).json).success != nil)
        #expect(
            Fixtures.rejection(base.with("x", String(repeating: "[", count: 30_000)).json)?.reason == .malformedJSON)
    }

    @Test func manyMembersDuplicateIsFound() {
        let members = (0..<200).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        #expect(Fixtures.decode(base.with("x", "{\(members)}").json).success != nil)
        let r = Fixtures.rejection(base.with("x", "{\(members),\"k7\":0}").json)
        #expect(r?.reason == .malformedJSON)
        #expect(r?.field == "/x/k7")
    }
}

extension Result {
    var success: Success? { if case .success(let s) = self { s } else { nil } }
    var failure: Failure? { if case .failure(let f) = self { f } else { nil } }
}
