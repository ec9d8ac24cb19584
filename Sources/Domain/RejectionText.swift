/// Every `detail` sentence of a rejection, in Vietnamese (what provincial operators read): each
/// says what is wrong, what was received and what the contract expects. Whatever an input puts
/// into a rejected record (values, member names, pointers) is cut to `quoteLimit` bytes, so a
/// record stays small whatever the input.
enum RejectionText {
    static let categories = ActivityCategory.allCases.map(\.rawValue).joined(separator: ", ")

    /// Most bytes of one received value, name or pointer quoted into a rejected record.
    static let quoteLimit = 60

    /// A received value as JSON text, cut to `quoteLimit` bytes on a character boundary; a cut
    /// value ends with "…" and says how long it was.
    static func shown(_ raw: some Collection<UInt8>) -> String {
        guard raw.count > quoteLimit else { return String(decoding: raw, as: UTF8.self) }
        let head = Array(raw.prefix(quoteLimit))
        let kept = characterBoundary(head, atMost: head.count)
        return String(decoding: head[..<kept], as: UTF8.self) + "…" + cutNote(kept: kept, of: raw.count)
    }

    /// " (đã cắt: chỉ hiện 60 trên 30002 byte)".
    static func cutNote(kept: Int, of total: Int) -> String {
        " (đã cắt: chỉ hiện \(kept) trên \(total) byte)"
    }

    /// The largest n ≤ `limit` such that `bytes[..<n]` ends on a UTF-8 character boundary
    /// (`bytes` is valid UTF-8 up to `limit`, possibly cut inside a character there).
    static func characterBoundary(_ bytes: [UInt8], atMost limit: Int) -> Int {
        let end = min(limit, bytes.count)
        guard end > 0 else { return 0 }
        var lead = end - 1  // the last character's lead byte
        while lead > 0, bytes[lead] & 0xC0 == 0x80, end - lead < 4 { lead -= 1 }
        let b = bytes[lead]
        let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
        return lead + length <= end ? end : lead
    }

    static let tombstone =
        "Bản tin không có nội dung (null/tombstone); cần gửi một đối tượng JSON "
        + "khuyencong.execution-update.v1."

    static func tooLarge(_ count: Int) -> String {
        "Bản tin dài \(count) byte, vượt giới hạn 65536 byte; hãy bỏ bớt các trường không "
            + "thuộc hợp đồng hoặc rút gọn danh sách activities."
    }

    static func malformed(_ error: JSONTape.SyntaxError, payload: UnsafeRawBufferPointer) -> Rejection {
        if let bad = JSONTape.firstInvalidUTF8(payload) {
            return Rejection(
                reason: .malformedJSON, field: nil,
                detail: "Bản tin không phải UTF-8 hợp lệ (byte sai ở vị trí \(bad)); hãy mã hóa "
                    + "bản tin bằng UTF-8.")
        }
        let what: String
        switch error.problem {
        case .duplicateMember(let pointer, let pointerCut, let name):
            return Rejection(
                reason: .malformedJSON, field: pointer,
                detail: duplicateMember(name, pointerCut: pointerCut))
        case .empty: what = "bản tin rỗng"
        case .byteOrderMark: what = "có dấu BOM (EF BB BF) ở đầu, JSON không cho phép"
        case .unexpectedEnd: what = "bản tin kết thúc giữa chừng"
        case .unexpectedByte(let b):
            what =
                b >= 0x20 && b < 0x7F
                ? "ký tự '\(Character(Unicode.Scalar(b)))' không hợp lệ"
                : "byte 0x\(String(b, radix: 16)) không hợp lệ"
        case .invalidUTF8: what = "byte không hợp lệ"
        case .controlCharacter: what = "ký tự điều khiển chưa thoát (escape) trong chuỗi"
        case .badEscape: what = "chuỗi thoát bắt đầu bằng \\ không hợp lệ"
        case .unpairedSurrogate: what = "\\u surrogate không thành cặp"
        case .badNumber: what = "số sai cú pháp JSON (ví dụ số 0 ở đầu, thiếu chữ số)"
        case .trailingData: what = "còn dữ liệu sau giá trị JSON"
        }
        return Rejection(
            reason: .malformedJSON, field: nil,
            detail: "Bản tin không phải JSON hợp lệ: \(what) tại byte \(error.offset).")
    }

    static func duplicateMember(_ name: [UInt8], pointerCut: Bool) -> String {
        var quoted: String
        if name.count > quoteLimit {
            let kept = characterBoundary(name, atMost: quoteLimit)
            quoted =
                "\"" + String(decoding: name[..<kept], as: UTF8.self) + "…\""
                + cutNote(kept: kept, of: name.count)
        } else {
            quoted = "\"" + String(decoding: name, as: UTF8.self) + "\""
        }
        return "Tên thành viên \(quoted) xuất hiện nhiều lần trong cùng một đối tượng JSON; "
            + "mỗi tên chỉ được có một lần."
            + (pointerCut ? " Đường dẫn trong field đã được cắt còn \(quoteLimit) byte đầu." : "")
    }

    /// "<expectation>; nhận được <value as sent>." — the shape of most details.
    static func received(_ expectation: String, _ got: String) -> String {
        "\(expectation); nhận được \(got)."
    }

    static let notAnObject =
        "Bản tin phải là một đối tượng JSON {…} theo khuyencong.execution-update.v1"

    static let wrongSchema = "Trường schema phải đúng bằng \"\(ExecutionUpdateDecoder.schemaName)\""

    static func missing(_ name: String, in parent: String?) -> String {
        "Thiếu trường bắt buộc \(name)" + (parent.map { " trong \($0)" } ?? "")
            + "; hãy bổ sung theo hợp đồng khuyencong.execution-update.v1."
    }

    static func notInteger(_ name: String, _ got: String) -> String {
        "Trường \(name) phải là số nguyên JSON (không phải chuỗi hay null, không có phần thập "
            + "phân hay số mũ); nhận được \(got)."
    }

    static let reportIDForm =
        "Trường report_id phải là chuỗi 1–128 ký tự, chỉ gồm A–Z, a–z, 0–9 và . _ : -"

    static let provinceForm =
        "Trường province phải là chuỗi mã tỉnh gồm đúng 2 chữ số (ví dụ \"01\")"

    static let periodEndForm = "Trường period_end phải là chuỗi dạng YYYY-MM (ví dụ \"2022-07\")"

    static let sourceValues = "Trường source phải là \"KCQG\" hoặc \"KCDP\""

    static let statusValues =
        "Trường status phải là \"estimate\" (ước thực hiện) hoặc \"actual\" (thực hiện)"

    static let revisionRange =
        "Trường revision phải là số nguyên từ 1 đến 9007199254740991 (2^53−1)"

    static let reportedAtForm =
        "Trường reported_at phải là thời điểm RFC 3339 có múi giờ, ví dụ "
        + "\"2022-08-05T09:30:00+07:00\" hoặc \"2022-08-05T02:30:00Z\""

    static let activitiesForm =
        "Trường activities phải là mảng các đối tượng {category, executed_vnd, projects?, "
        + "beneficiaries?}"

    static func badActivityItem(_ index: Int, _ got: String) -> String {
        "Phần tử activities/\(index) phải là đối tượng {category, executed_vnd, projects?, "
            + "beneficiaries?}; nhận được \(got)."
    }

    static let categoryValues = "Trường category phải là một trong: \(categories)"

    static let consultingForm = "Trường consulting phải là đối tượng {projects, revenue_vnd}"

    static func outOfRange(_ name: String, _ got: String, count: Bool) -> String {
        count
            ? "Trường \(name) phải là số đếm nguyên không âm, tối đa 10^15; nhận được \(got)."
            : "Trường \(name) phải là số nguyên không âm, tối đa 10^15 đồng; nhận được "
                + "\(got)."
    }

    static let fiscalYearRange =
        "Trường fiscal_year phải nằm trong khoảng "
        + "\(FiscalYear.range.lowerBound)–\(FiscalYear.range.upperBound)"

    static let monthRange = "Tháng trong period_end phải từ 01 đến 12"

    static func yearMismatch(_ periodYear: Int, _ fiscalYear: Int) -> String {
        "Năm của period_end (\(periodYear)) phải bằng fiscal_year (\(fiscalYear)); số liệu lũy kế "
            + "tính từ tháng 1 của năm ngân sách."
    }

    static func keyAbsent(_ province: String) -> String {
        "Bản tin không có khóa (message key); khóa phải là mã tỉnh, ở đây là \"\(province)\" như "
            + "trường province."
    }

    static func keyDiffers(key: [UInt8], province: String) -> String {
        var w = JSONWriter()
        w.string(String(decoding: key, as: UTF8.self))
        let quoted = shown(w.bytes)
        return "Khóa bản tin \(quoted) khác trường province \"\(province)\"; khóa phải đúng bằng mã "
            + "tỉnh của báo cáo."
    }

    static func topicDiffers(topicUnit: String, province: String) -> String {
        "Báo cáo của tỉnh \"\(province)\" được gửi vào chủ đề (topic) của đơn vị "
            + "\"\(topicUnit)\"; mỗi đơn vị chỉ được gửi báo cáo của chính mình, vào chủ "
            + "đề của mình."
    }

    static func unknownProvince(_ code: String, registry: Registry, period: YearMonth) -> String {
        let rule =
            registry.version == .v2004
            ? "đến kỳ \(RegistrySwitch.lastPeriodBefore)" : "từ kỳ \(RegistrySwitch.firstPeriod)"
        return
            "Mã tỉnh \"\(code)\" không thuộc danh mục hành chính \(registry.version.rawValue) "
            + "(\(registry.units.count) đơn vị, áp dụng \(rule)) cho kỳ \(period); hãy dùng mã của "
            + "đơn vị hành chính đang có hiệu lực."
    }

    static func activitiesMismatch(sum: Int64?, executed: Int64) -> String {
        let total = sum.map { "\($0) đồng" } ?? "vượt giới hạn số học"
        return
            "Tổng executed_vnd của các phần tử activities (\(total)) phải bằng executed_vnd của báo "
            + "cáo (\(executed) đồng)."
    }

    // The aggregation's rejections: it holds the earlier revision, and re-checks (defensively)
    // what the decoder has already checked.

    static func conflictingRevision(_ f: ReportFacts, reportID: String?) -> String {
        "Báo cáo \(reportID.map { $0 + " " } ?? "")có revision \(f.revision) trùng với một báo cáo "
            + "đã nhận cho tỉnh \(f.province), nguồn \(f.source.rawValue), kỳ \(f.periodEnd), trạng "
            + "thái \(f.status.rawValue) nhưng nội dung khác; hãy gửi lại với revision lớn hơn "
            + "\(f.revision)."
    }

    static func periodOutsideFiscalYear(_ f: ReportFacts) -> String {
        "Kỳ báo cáo \(f.periodEnd) không thuộc năm tài chính \(f.fiscalYear) "
            + "(\(FiscalYear.range.lowerBound)–\(FiscalYear.range.upperBound))."
    }

    static func provinceNotInRegistry(_ f: ReportFacts) -> String {
        "Mã tỉnh \(f.province) không có trong danh mục đơn vị hành chính áp dụng cho kỳ "
            + "\(f.periodEnd)."
    }
}
