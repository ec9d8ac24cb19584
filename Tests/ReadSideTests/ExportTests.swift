import Dashboard
import Domain
import Foundation
@testable import ReadSide
import Testing

/// The CSV exports and the Vietnamese formats, from the seed's real summaries.
@Suite struct ExportTests {
    let july2022 = YearMonth(year: 2022, month: 7)

    /// RFC 4180 fields of a CSV text (quoted fields with commas, doubled quotes).
    static func rows(_ bytes: [UInt8]) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var chars = Array(String(decoding: bytes.dropFirst(3), as: UTF8.self))[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field); field = ""
            } else if c == "\r\n" || c == "\n" {
                row.append(field); field = ""; rows.append(row); row = []
            } else {
                field.append(c)
            }
        }
        return rows
    }

    @Test func reportCSVHasTheSeedFiguresExactly() throws {
        let model = try ReadModelTests.filled()
        let bytes = CSVExport.report(ReportTable(model: model, period: july2022))
        #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF], "UTF-8 byte order mark for Excel")
        let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
        let withoutCRLF = text.replacingOccurrences(of: "\r\n", with: "")
        #expect(text.hasSuffix("\r\n") && !withoutCRLF.contains("\n"), "CRLF line ends")
        let rows = Self.rows(bytes)
        #expect(rows.count == 5)
        #expect(rows.allSatisfy { $0.count == rows[0].count })
        let header = rows[0]
        func column(_ name: String) throws -> Int { try #require(header.firstIndex(of: name), "\(name)") }
        let mttn = try #require(rows.first { $0[0] == "Khu vực miền Trung – Tây Nguyên" })
        #expect(mttn[try column("Tỷ lệ KCQG (%)")] == "12,11")
        #expect(mttn[try column("Tỷ lệ KCĐP (%)")] == "39,38")
        #expect(mttn[try column("Tỷ lệ thực hiện/KH (%)")] == "28,44")
        #expect(mttn[try column("Thực hiện (đồng)")] == "20700000000")
        #expect(mttn[try column("Kế hoạch năm (đồng)")] == "72773000000")
        #expect(mttn[try column("Cùng kỳ năm trước - tỷ lệ (%)")] == "17,54")
        #expect(mttn[try column("Thay đổi tỷ lệ (%)")] == "62,15")
        #expect(mttn[try column("Số tỉnh báo cáo")] == "15")
        #expect(mttn[try column("Trạng thái")] == "Thực hiện")
        // The nation's share of the region: all of it, the seed has no other region.
        #expect(mttn[try column("Chiếm toàn quốc - KCQG (%)")] == "100,00")
        // A percentage with a decimal comma is quoted (RFC 4180).
        #expect(text.contains(#","12,11","#))
        // Regions without a July summary get an empty row, not a made-up one.
        let bac = try #require(rows.first { $0[0] == "Khu vực phía Bắc" })
        #expect(bac[2...].allSatisfy { $0.isEmpty })
    }

    @Test func aRegionWithoutReportsInTheMonthCarriesItsLatestFigures() throws {
        let model = try ReadModelTests.filled()
        let table = ReportTable(model: model, period: YearMonth(year: 2022, month: 9))
        let mttn = try #require(table.rows.first { $0.scope == .region(.mienTrungTayNguyen) })
        #expect(mttn.carriedFrom == july2022)
        #expect(mttn.summary?.totals?.execution_rate_pct == Hundredths(2844))
        let rows = Self.rows(CSVExport.report(table))
        #expect(
            rows.first { $0[0] == "Khu vực miền Trung – Tây Nguyên" }?[1] == "2022-07",
            "the CSV names the month the figures are of")
        // Never a later month's figures, nor another year's.
        let june = ReportTable(model: model, period: YearMonth(year: 2022, month: 6))
        #expect(june.rows.allSatisfy { $0.summary == nil })
        let page = try DashboardPages().report(model: model, period: YearMonth(year: 2022, month: 9))
        #expect(page.contains("số liệu đến tháng 07/2022"))
    }

    @Test func regionCSVListsProvincesInCodeOrder() throws {
        let model = try ReadModelTests.filled()
        let report = RegionReport(model: model, scope: .region(.mienTrungTayNguyen), period: july2022)
        let bytes = CSVExport.provinces(report)
        let rows = Self.rows(bytes)
        let codes = rows.dropFirst().map { $0[0] }
        #expect(codes.count == 15)
        #expect(codes == codes.sorted())
        #expect(rows[0][0] == "Mã tỉnh" && rows[0][1] == "Tỉnh/thành phố")
        #expect(rows.dropFirst().allSatisfy { $0[3] == "Đã báo cáo" })
        // The province figures add up to the region's exactly.
        let executed = rows.dropFirst().reduce(Int64(0)) { $0 + (Int64($1[6]) ?? 0) + (Int64($1[9]) ?? 0) }
        #expect(executed == 20_700_000_000)
    }

    @Test func vietnameseFormats() {
        #expect(VietnameseFormat.billions(20_700_000_000) == "20,7")
        #expect(VietnameseFormat.billions(72_773_000_000) == "72,8")
        #expect(VietnameseFormat.billions(1_234_560_000_000, decimals: 2) == "1.234,56")
        #expect(VietnameseFormat.billions(49_999_999) == "0,0")
        #expect(VietnameseFormat.billions(50_000_000) == "0,1")
        #expect(VietnameseFormat.percent(Hundredths(1211)) == "12,11 %")
        #expect(VietnameseFormat.change(Hundredths(6215)) == "+62,15 %")
        #expect(VietnameseFormat.change(Hundredths(-1008)) == "-10,08 %")
        #expect(VietnameseFormat.periodEndDate(YearMonth(year: 2022, month: 7)) == "31/07/2022")
        #expect(VietnameseFormat.periodEndDate(YearMonth(year: 2024, month: 2)) == "29/02/2024")
        #expect(VietnameseFormat.cumulativeLabel(YearMonth(year: 2022, month: 7)) == "7 tháng đầu năm 2022")
        #expect(VietnameseFormat.dateTime("2022-08-10T09:00:00Z") == "10/08/2022 16:00")
        #expect(VietnameseFormat.dateTime("2022-12-31T20:30:00Z") == "01/01/2023 03:30")
        #expect(VietnameseFormat.dateTime("2022-08-10T09:00:00+07:00") == "10/08/2022 09:00")
        #expect(VietnameseFormat.dateTime("yesterday") == "yesterday")
    }

    @Test func pagesShowTheSeedInVietnamese() throws {
        let model = try ReadModelTests.filled()
        let pages = try DashboardPages()
        #expect(pages.report(model: model, period: nil).contains("Đang nạp số liệu"))
        model.setReadiness(.ready)
        let report = pages.report(model: model, period: nil)
        #expect(!report.contains("Đang nạp số liệu"))
        #expect(report.contains("7 tháng đầu năm 2022"))
        #expect(report.contains("31/07/2022"))
        #expect(report.contains("12,11 %") && report.contains("39,38 %") && report.contains("28,44 %"))
        #expect(report.contains("20,7"))
        #expect(report.contains(#"<th scope="row">"#))
        #expect(report.contains("<svg") && report.contains(#"class="pace""#))
        #expect(report.contains("Nghiêm trọng"))
        #expect(report.contains("thấp hơn ngưỡng 17,50%"))
        #expect(report.contains(#"href="/export/bao-cao.csv?year=2022&amp;month=7""#))
        let region = pages.region(model: model, scope: .region(.mienTrungTayNguyen), period: nil)
        #expect(region.contains("Khu vực miền Trung – Tây Nguyên"))
        #expect(region.components(separatedBy: #"class="mark mark-reported""#).count - 1 == 15)
        let bac = pages.region(model: model, scope: .region(.bac), period: july2022)
        #expect(bac.contains("Chưa có số liệu"))
    }
}
