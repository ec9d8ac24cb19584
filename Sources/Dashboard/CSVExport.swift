import Foundation
import Domain
import ReadSide

/// The exports the Ministry files: RFC 4180 (CRLF line ends, fields with a comma, quote or line
/// break quoted, quotes doubled), UTF-8 with a byte order mark so Excel shows Vietnamese text,
/// Vietnamese headers. Amounts are exact đồng; percentages keep their two decimals, written
/// with the Vietnamese decimal comma as the report prints them.
public enum CSVExport {
    static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// The report table: one line per region and the nation.
    public static func report(_ table: ReportTable) -> [UInt8] {
        var lines: [[String]] = [
            [
                "Khu vực", "Kỳ báo cáo", "Kế hoạch năm (đồng)", "Thực hiện (đồng)",
                "Tỷ lệ thực hiện/KH (%)",
                "KH KCQG (đồng)", "TH KCQG (đồng)", "Tỷ lệ KCQG (%)",
                "KH KCĐP (đồng)", "TH KCĐP (đồng)", "Tỷ lệ KCĐP (%)",
                "KCQG chiếm trong khu vực (%)", "KCĐP chiếm trong khu vực (%)",
                "Chiếm toàn quốc - tổng (%)", "Chiếm toàn quốc - KCQG (%)",
                "Chiếm toàn quốc - KCĐP (%)",
                "Cùng kỳ năm trước - thực hiện (đồng)", "Cùng kỳ năm trước - tỷ lệ (%)",
                "Thay đổi thực hiện (%)", "Thay đổi tỷ lệ (%)",
                "Số tỉnh dự kiến", "Số tỉnh báo cáo", "Số tỉnh chuyển kỳ", "Số tỉnh thiếu",
                "Trạng thái",
            ]
        ]
        for row in table.rows {
            let name = row.summary?.region_name ?? row.scope.name
            guard let s = row.summary else {
                lines.append([name, table.period.description] + Array(repeating: "", count: 23))
                continue
            }
            let last = s.same_period_last_year?.totals
            lines.append([
                name, s.period_end, amount(s.totals?.plan_vnd), amount(s.totals?.executed_vnd),
                pct(s.totals?.execution_rate_pct),
                amount(s.by_source?.KCQG?.plan_vnd), amount(s.by_source?.KCQG?.executed_vnd),
                pct(s.by_source?.KCQG?.execution_rate_pct),
                amount(s.by_source?.KCDP?.plan_vnd), amount(s.by_source?.KCDP?.executed_vnd),
                pct(s.by_source?.KCDP?.execution_rate_pct),
                pct(s.by_source?.KCQG?.share_of_region_executed_pct),
                pct(s.by_source?.KCDP?.share_of_region_executed_pct),
                pct(row.nationalShare?.total), pct(row.nationalShare?.kcqg), pct(row.nationalShare?.kcdp),
                amount(last?.executed_vnd), pct(last?.execution_rate_pct), pct(last?.executed_change_pct),
                pct(last?.rate_change_pct),
                count(s.provinces_expected), count(s.provinces_reported), count(s.provinces_carried),
                count(s.provinces_missing?.count), VietnameseFormat.status(s.status),
            ])
        }
        return encode(lines)
    }

    /// A region's provinces, in code order.
    public static func provinces(_ report: RegionReport) -> [UInt8] {
        var lines: [[String]] = [
            [
                "Mã tỉnh", "Tỉnh/thành phố", "Kỳ báo cáo của tỉnh", "Tình trạng",
                "Trạng thái số liệu",
                "KH KCQG (đồng)", "TH KCQG (đồng)", "Tỷ lệ KCQG (%)",
                "KH KCĐP (đồng)", "TH KCĐP (đồng)", "Tỷ lệ KCĐP (%)",
                "Cảnh báo",
            ]
        ]
        for p in report.provinces {
            let q = p.by_source?.KCQG, d = p.by_source?.KCDP
            lines.append([
                p.code, p.name, p.report_month ?? "", ProvinceMark.of(p).text, VietnameseFormat.status(p.status),
                amount(q?.plan_vnd), amount(q?.executed_vnd), pct(q?.execution_rate_pct),
                amount(d?.plan_vnd), amount(d?.executed_vnd), pct(d?.execution_rate_pct),
                report.provinceSeverity[p.code].map(VietnameseFormat.severity) ?? "",
            ])
        }
        return encode(lines)
    }

    static func amount(_ vnd: Int64?) -> String { vnd.map(String.init) ?? "" }
    static func pct(_ value: Hundredths?) -> String { value.map { Percent.vietnamese($0.value) } ?? "" }
    static func count(_ n: Int?) -> String { n.map(String.init) ?? "" }

    /// RFC 4180 text of `lines`, with the BOM.
    static func encode(_ lines: [[String]]) -> [UInt8] {
        var out = bom
        for line in lines {
            out += Array(line.map(field).joined(separator: ",").utf8)
            out += [0x0D, 0x0A]
        }
        return out
    }

    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// How a province stands in a period: reported, carried from an earlier month, or missing.
public enum ProvinceMark: String, Sendable {
    case reported, carried, missing

    public static func of(_ p: SummaryMessage.Province) -> ProvinceMark {
        if p.report_month == nil { return .missing }
        return p.carried == true ? .carried : .reported
    }

    public var text: String {
        switch self {
        case .reported: "Đã báo cáo"
        case .carried: "Chuyển kỳ (số liệu tháng trước)"
        case .missing: "Chưa báo cáo"
        }
    }
}
