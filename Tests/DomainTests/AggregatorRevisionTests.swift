import Foundation
import Testing
@testable import Domain

/// Revision-key rules, emit-on-change, carry-forward and the FY2025 registry change.
@Suite struct AggregatorRevisionTests {
    @Test func revisionKeyCases() throws {
        let a = Fixture.aggregator()
        let r1 = Fixture.update("01", 2024, 3, .kcqg, plan: 1000, executed: 100)
        #expect(a.apply(r1) == .accepted)
        #expect(a.apply(r1) == .duplicate)
        var other = r1
        other.executedVND = 101
        guard case .rejected(let rejection) = a.apply(other) else { Issue.record("conflict not rejected"); return }
        #expect(rejection.reason == .conflictingRevision)
        #expect(rejection.field == "/revision")
        #expect(rejection.detail.contains("revision"))
        var sameButReportedLater = r1
        sameButReportedLater.reportedAt = "2024-03-29T08:00:00+07:00"
        #expect(a.apply(sameButReportedLater) != .duplicate)
        let r3 = Fixture.update("01", 2024, 3, .kcqg, plan: 1000, executed: 300, revision: 3)
        #expect(a.apply(r3) == .accepted)
        #expect(a.apply(Fixture.update("01", 2024, 3, .kcqg, plan: 1000, executed: 200, revision: 2)) == .stale)
        #expect(a.revisionKeyCount == 1)
        // r1 and r3 in one batch are coalesced: one summary with both counted.
        let out = a.endBatch(at: "2024-04-01T00:00:00Z")
        #expect(out.summaries.map(\.key) == ["bac/2024/2024-03", "ca-nuoc/2024/2024-03"])
        let s = try #require(Fixture.message(out, "bac/2024/2024-03"))
        #expect(s.int("revision") == 2)
        #expect(s.int("totals", "executed_vnd") == 300)
        #expect(out.changelog.contains { $0.key == "rev/01/2024/KCQG/2024-03/actual" })
        // Duplicates and stale inputs produce nothing at all.
        #expect(a.apply(r3) == .duplicate)
        #expect(a.apply(r1) == .stale)
        #expect(a.endBatch(at: "2024-04-02T00:00:00Z").isEmpty)
    }

    @Test func actualWinsOverEstimate() throws {
        let a = Fixture.aggregator()
        _ = Fixture.apply(
            a, [Fixture.update("01", 2024, 3, .kcqg, plan: 1000, executed: 100, status: .estimate, revision: 5)])
        let out = Fixture.apply(
            a, [Fixture.update("01", 2024, 3, .kcqg, plan: 1000, executed: 200, status: .actual, revision: 1)])
        let s = try #require(Fixture.message(out, "bac/2024/2024-03"))
        #expect(s.int("totals", "executed_vnd") == 200)
        #expect(s.string("status") == "actual")
        // A later estimate is accepted (and counted) but changes no content: nothing is emitted.
        let later = Fixture.apply(
            a, [Fixture.update("01", 2024, 3, .kcqg, plan: 1000, executed: 300, status: .estimate, revision: 6)])
        #expect(later.summaries.isEmpty)
        #expect(later.changelog.map(\.key) == ["rev/01/2024/KCQG/2024-03/estimate"])
        let now = Fixture.object(
            try #require(
                a.summary(.region(.bac), fiscalYear: 2024, periodEnd: YearMonth(year: 2024, month: 3), computedAt: "x"))
        )
        #expect(now.int("totals", "executed_vnd") == 200)
        #expect(now.int("revision") == 3)
    }

    @Test func lateEarlierMonthIsCarriedIntoLaterMonths() async throws {
        let a = Fixture.aggregator()
        let first = Fixture.apply(
            a,
            [
                Fixture.update("01", 2024, 3, .kcqg, plan: 1000, executed: 100),
                Fixture.update("02", 2024, 5, .kcqg, plan: 500, executed: 250),
            ])
        #expect(
            first.summaries.map(\.key) == [
                "bac/2024/2024-03", "bac/2024/2024-05", "ca-nuoc/2024/2024-03", "ca-nuoc/2024/2024-05",
            ])
        let may = try #require(Fixture.message(first, "bac/2024/2024-05"))
        #expect(may.int("provinces_reported") == 1)
        #expect(may.int("provinces_carried") == 1)
        #expect(may.int("provinces_expected") == 28)
        #expect((may.at("provinces_missing") as? [String])?.count == 26)
        #expect(may.string("provinces", "0", "report_month") == "2024-03")
        #expect(may.at("provinces", "0", "carried") as? Bool == true)
        #expect(may.int("totals", "executed_vnd") == 350)

        let late = Fixture.apply(a, [Fixture.update("01", 2024, 4, .kcqg, plan: 1000, executed: 180)])
        #expect(
            late.summaries.map(\.key) == [
                "bac/2024/2024-04", "bac/2024/2024-05", "ca-nuoc/2024/2024-04", "ca-nuoc/2024/2024-05",
            ])
        let may2 = try #require(Fixture.message(late, "bac/2024/2024-05"))
        #expect(may2.string("provinces", "0", "report_month") == "2024-04")
        #expect(may2.int("totals", "executed_vnd") == 430)
        #expect(may2.int("revision") == 3)
        try await AggregateSchemaCheck.expectValid([first, late])
    }

    @Test func fiscalYear2025MergerCarriesPredecessors() async throws {
        let a = Fixture.aggregator()
        let h1 = Fixture.apply(
            a,
            [
                Fixture.update("38", 2025, 6, .kcqg, plan: 100, executed: 40),
                Fixture.update("60", 2025, 6, .kcqg, plan: 200, executed: 50, status: .estimate),
                Fixture.update("67", 2025, 5, .kcqg, plan: 300, executed: 60),
                Fixture.update("68", 2025, 6, .kcqg, plan: 400, executed: 70),
                Fixture.update("68", 2025, 6, .kcdp, plan: 10, executed: 5, advanced: 3),
            ])
        // H1 is under registry 2004: Thanh Hóa in the north, Bình Thuận in the south.
        #expect(
            Set(h1.summaries.map(\.key)) == [
                "bac/2025/2025-06", "nam/2025/2025-06", "mien-trung-tay-nguyen/2025/2025-05",
                "mien-trung-tay-nguyen/2025/2025-06", "ca-nuoc/2025/2025-05", "ca-nuoc/2025/2025-06",
            ])
        #expect(Fixture.message(h1, "bac/2025/2025-06")?.int("totals", "executed_vnd") == 40)
        #expect(Fixture.message(h1, "bac/2025/2025-06")?.string("registry") == "2004")

        let july = Fixture.apply(a, [Fixture.update("40", 2025, 7, .kcqg, plan: 1000, executed: 600)])
        #expect(july.summaries.map(\.key) == ["mien-trung-tay-nguyen/2025/2025-07", "ca-nuoc/2025/2025-07"])
        let s = try #require(Fixture.message(july, "mien-trung-tay-nguyen/2025/2025-07"))
        #expect(s.string("registry") == "2025")
        #expect(s.int("provinces_expected") == 11)
        #expect(s.int("provinces_reported") == 1)
        #expect(s.int("provinces_carried") == 2)
        let rows = try #require(s.at("provinces") as? [[String: Any]])
        let thanhHoa = try #require(rows.first { $0["code"] as? String == "38" })
        #expect(thanhHoa.string("report_month") == "2025-06")
        #expect(thanhHoa["carried"] as? Bool == true)
        let lamDong = try #require(rows.first { $0["code"] as? String == "68" })
        #expect(lamDong.int("by_source", "KCQG", "plan_vnd") == 900)
        #expect(lamDong.int("by_source", "KCQG", "executed_vnd") == 180)
        #expect(lamDong.string("by_source", "KCQG", "status") == "estimate")
        #expect(lamDong.string("by_source", "KCQG", "period_end") == "2025-06")
        #expect(lamDong.string("status") == "estimate")
        #expect(s.int("totals", "executed_vnd") == Int64(600 + 40 + 180 + 5))
        #expect(s.int("totals", "advanced_vnd") == 3)
        #expect(s.string("status") == "estimate")
        // Inputs: Nghệ An's July report and the five H1 reports of the region's predecessors.
        #expect(s.int("revision") == 6)

        let august = Fixture.apply(a, [Fixture.update("68", 2025, 8, .kcqg, plan: 1000, executed: 500)])
        let aug = try #require(Fixture.message(august, "mien-trung-tay-nguyen/2025/2025-08"))
        let lamDong8 = try #require((aug.at("provinces") as? [[String: Any]])?.first { $0["code"] as? String == "68" })
        #expect(lamDong8.int("by_source", "KCQG", "executed_vnd") == 500)
        #expect(lamDong8.string("by_source", "KCQG", "period_end") == "2025-08")
        #expect(lamDong8.int("by_source", "KCDP", "executed_vnd") == 5)
        #expect(lamDong8.string("by_source", "KCDP", "period_end") == "2025-06")
        #expect(lamDong8["carried"] as? Bool == false)
        #expect(aug.int("provinces_carried") == 2)  // Thanh Hóa and Nghệ An (July)
        #expect(Fixture.message(august, "province:68/2025/KCQG")?.string("scope", "name") == "Lâm Đồng")

        // A late H1 revision of a predecessor reaches the carried H2 months.
        let fix = Fixture.apply(a, [Fixture.update("67", 2025, 5, .kcqg, plan: 300, executed: 90, revision: 2)])
        #expect(fix.summaries.map(\.key).contains("mien-trung-tay-nguyen/2025/2025-07"))
        // Lâm Đồng's own KCQG there
        #expect(!fix.summaries.map(\.key).contains("mien-trung-tay-nguyen/2025/2025-08"))
        try await AggregateSchemaCheck.expectValid([h1, july, august, fix])
    }

    @Test func priorYearIsRestatedAcrossRegistries() async throws {
        let a = Fixture.aggregator()
        _ = Fixture.apply(
            a,
            [
                Fixture.update("60", 2025, 3, .kcqg, plan: 1000, executed: 100),
                Fixture.update("38", 2025, 3, .kcqg, plan: 500, executed: 50),
                Fixture.update("01", 2025, 3, .kcqg, plan: 2000, executed: 300),
            ])
        let y2026 = Fixture.apply(
            a,
            [
                Fixture.update("68", 2026, 3, .kcqg, plan: 1000, executed: 400),
                Fixture.update("01", 2026, 3, .kcqg, plan: 2000, executed: 600),
            ])
        let mttn = try #require(Fixture.message(y2026, "mien-trung-tay-nguyen/2026/2026-03"))
        #expect(mttn.string("registry") == "2025")
        #expect(mttn.int("same_period_last_year", "totals", "plan_vnd") == 1500)
        #expect(mttn.int("same_period_last_year", "totals", "executed_vnd") == 150)
        #expect(mttn.double("same_period_last_year", "totals", "executed_change_pct") == 166.67)
        #expect(mttn.double("same_period_last_year", "totals", "rate_change_pct") == 300)
        #expect(mttn.isNull("same_period_last_year", "by_source", "KCDP", "execution_rate_pct"))
        #expect(mttn.isNull("same_period_last_year", "by_source", "KCDP", "rate_change_pct"))
        #expect(mttn.int("revision") == 3)
        let bac = try #require(Fixture.message(y2026, "bac/2026/2026-03"))
        #expect(bac.int("same_period_last_year", "totals", "executed_vnd") == 300)
        #expect(Fixture.message(y2026, "nam/2026/2026-03") == nil)

        // A new revision of last year's report re-emits this year's summary.
        let fix = Fixture.apply(a, [Fixture.update("60", 2025, 3, .kcqg, plan: 1000, executed: 200, revision: 2)])
        #expect(
            fix.summaries.map(\.key) == [
                "mien-trung-tay-nguyen/2026/2026-03", "nam/2025/2025-03", "ca-nuoc/2025/2025-03",
                "ca-nuoc/2026/2026-03",
            ])
        #expect(
            Fixture.message(fix, "mien-trung-tay-nguyen/2026/2026-03")?.int(
                "same_period_last_year", "totals", "executed_vnd") == 250)
        #expect(Fixture.message(fix, "mien-trung-tay-nguyen/2026/2026-03")?.int("revision") == 4)
        try await AggregateSchemaCheck.expectValid([y2026, fix])
    }

    @Test func percentRoundsHalfAwayFromZero() {
        #expect(Percent.ofRatio(1, 8) == 1250)
        #expect(Percent.ofRatio(1, 800) == 13)  // 0.125 → 0.13
        #expect(Percent.ofRatio(-1, 800) == -13)
        #expect(Percent.ofRatio(1, 16_000) == 1)  // 0.00625 → 0.01
        #expect(Percent.ofRatio(1, 20_000) == 1)  // 0.005 → 0.01
        #expect(Percent.ofRatio(1, 20_001) == 0)
        #expect(Percent.ofRatio(2, 3) == 6667)
        #expect(Percent.ofRatio(-2, 3) == -6667)
        #expect(Percent.ofRatio(5, 0) == nil)
        #expect(Percent.json(1210) == "12.10")
        #expect(Percent.json(-5) == "-0.05")
        #expect(Percent.vietnamese(123_456) == "1.234,56")
        #expect(Percent.vietnamese(1211) == "12,11")
        // Extreme contract amounts never trap.
        let big = Int128(Money.maxAmount) * 126
        #expect(Percent.ofRatio(big * big, 1) == big * big * 10_000)
        #expect(Percent.ofRatio(big * big * 10, 1) == nil)  // beyond Int128 hundredths: null, not a trap
        #expect(Percent.ofRatio(big, 1) == big * 10_000)
    }

    @Test func writerRendersPercentagesLikePercentJSON() {
        for h: Int128 in [0, 5, -5, 99, -99, 100, -100, 1210, -1210, 9937, 123_456_789, -123_456_789] {
            var w = AggregateJSON()
            w.percent(h)
            #expect(String(decoding: w.bytes, as: UTF8.self) == Percent.json(h))
        }
    }

    @Test func percentInOutputRoundsAtTheBoundary() throws {
        let a = Fixture.aggregator()
        let out = Fixture.apply(a, [Fixture.update("01", 2024, 3, .kcqg, plan: 800, executed: 1)])
        let raw = try #require(out.summaries.first { $0.key == "bac/2024/2024-03" })
        #expect(
            String(decoding: raw.value, as: UTF8.self).contains(
                #""executed_vnd":1,"advanced_vnd":null,"execution_rate_pct":0.13,"#))
    }
}
