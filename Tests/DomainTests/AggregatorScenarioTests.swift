import Foundation
import SchemaTestSupport
import Testing
@testable import Domain

/// The contract's seed figures, rebuilt from province-level inputs.
@Suite struct AggregatorScenarioTests {
    let mttn = Fixture.codes(.mienTrungTayNguyen)
    let m = Fixture.million

    func mttn2021(month: Int, kcqg: (Int64, Int64), kcdp: (Int64, Int64)) -> [ExecutionUpdate] {
        Fixture.regionUpdates(mttn, 2021, month, .kcqg, plan: kcqg.0 * m, executed: kcqg.1 * m)
            + Fixture.regionUpdates(mttn, 2021, month, .kcdp, plan: kcdp.0 * m, executed: kcdp.1 * m)
    }

    @Test func mienTrungTayNguyen2021() async throws {
        let a = Fixture.aggregator()
        let out = Fixture.apply(a, mttn2021(month: 12, kcqg: (11_140, 11_070), kcdp: (40_090, 37_730)))
        let raw = try #require(out.summaries.first { $0.key == "mien-trung-tay-nguyen/2021/2021-12" })
        let s = Fixture.object(raw.value)
        #expect(s.string("region_name") == "Khu vực miền Trung – Tây Nguyên")
        #expect(s.string("registry") == "2004")
        #expect(s.int("provinces_expected") == 15)
        #expect(s.int("provinces_reported") == 15)
        #expect(s.int("by_source", "KCQG", "plan_vnd") == 11_140 * m)
        #expect(s.int("by_source", "KCQG", "executed_vnd") == 11_070 * m)
        #expect(s.int("totals", "executed_vnd") == 48_800 * m)
        #expect(s.isNull("totals", "advanced_vnd"))
        #expect(s.isNull("same_period_last_year"))
        #expect(s.int("revision") == 30)
        let text = String(decoding: raw.value, as: UTF8.self)
        #expect(
            text.contains(
                #""KCQG":{"plan_vnd":11140000000,"executed_vnd":11070000000,"advanced_vnd":null,"#
                    + #""execution_rate_pct":99.37,"share_of_region_executed_pct":22.68}"#))
        #expect(text.contains(#""execution_rate_pct":94.11,"share_of_region_executed_pct":77.32"#))
        #expect(
            text.contains(
                #""totals":{"plan_vnd":51230000000,"executed_vnd":48800000000,"advanced_vnd":null,"#
                    + #""execution_rate_pct":95.26}"#))
        #expect(text.hasPrefix(#"{"schema":"khuyencong.regional-summary.v1","region":"mien-trung-tay-nguyen","#))
        #expect(text.hasSuffix(#""revision":30,"computed_at":"2026-01-01T00:00:00Z"}"#))
        // The nation's summary covers the same reports, with the region's share of the nation.
        let n = try #require(Fixture.message(out, "ca-nuoc/2021/2021-12"))
        #expect(n.int("provinces_expected") == 63)
        #expect(n.int("provinces_reported") == 15)
        #expect((n.at("provinces_missing") as? [Any])?.count == 48)
        #expect(n.string("regions", "1", "region") == "mien-trung-tay-nguyen")
        #expect(n.double("regions", "1", "by_source", "KCQG", "share_of_national_executed_pct") == 100)
        #expect(n.double("regions", "0", "totals", "share_of_national_executed_pct") == 0)
        #expect(out.summaries.map(\.key) == ["mien-trung-tay-nguyen/2021/2021-12", "ca-nuoc/2021/2021-12"])
        try await AggregateSchemaCheck.expectValid([out])
    }

    @Test func mienTrungTayNguyenFirstSevenMonths2022() async throws {
        let a = Fixture.aggregator()
        let prior = Fixture.apply(
            a, mttn2021(month: 7, kcqg: (11_140, 1_500), kcdp: (40_090, 7_487)), at: "2022-08-01T00:00:00Z")
        let updates =
            Fixture.regionUpdates(mttn, 2022, 7, .kcqg, plan: 29_172 * m, executed: 3_532 * m)
            + Fixture.regionUpdates(mttn, 2022, 7, .kcdp, plan: 43_601 * m, executed: 17_168 * m)
        let out = Fixture.apply(a, updates, at: "2022-08-10T09:00:00Z")
        let raw = try #require(out.summaries.first { $0.key == "mien-trung-tay-nguyen/2022/2022-07" })
        let s = Fixture.object(raw.value)
        #expect(s.int("totals", "executed_vnd") == 20_700 * m)
        #expect(s.double("by_source", "KCQG", "execution_rate_pct") == 12.11)
        #expect(s.double("by_source", "KCDP", "execution_rate_pct") == 39.38)
        #expect(s.double("totals", "execution_rate_pct") == 28.44)
        #expect(s.double("same_period_last_year", "totals", "execution_rate_pct") == 17.54)
        #expect(s.double("same_period_last_year", "totals", "executed_change_pct") == 130.33)
        #expect(s.double("same_period_last_year", "totals", "rate_change_pct") == 62.15)
        #expect(s.double("same_period_last_year", "by_source", "KCQG", "rate_change_pct") == -10.08)
        #expect(s.double("same_period_last_year", "by_source", "KCDP", "executed_change_pct") == 129.30)
        // 30 reports this year + 30 last year at or before July.
        #expect(s.int("revision") == 60)

        // Alerts under the default rules (pace 58.33; critical < 17.50, warning < 35.00).
        let region = "region:mien-trung-tay-nguyen/2022/"
        let q = try #require(Fixture.message(out, region + "KCQG"))
        #expect(q.string("state") == "raised")
        #expect(q.string("severity") == "critical")
        #expect(q.string("rule") == "pace-critical")
        #expect(q.double("threshold_pct") == 17.5)
        #expect(q.double("expected_rate_pct") == 58.33)
        #expect(q.double("execution_rate_pct") == 12.11)
        #expect(
            q.string("message") == "Kinh phí KCQG khu vực miền Trung – Tây Nguyên 7 tháng đầu năm "
                + "2022 đạt 12,11% kế hoạch năm, thấp hơn ngưỡng 17,50%")
        #expect(q.string("scope", "name") == "Khu vực miền Trung – Tây Nguyên")
        #expect(q.string("scope", "code") == "mien-trung-tay-nguyen")
        #expect(q.string("raised_at") == "2022-08-10T09:00:00Z")
        let t = try #require(Fixture.message(out, region + "total"))
        #expect(t.string("severity") == "warning")
        #expect(t.string("rule") == "pace-warning")
        #expect(t.double("threshold_pct") == 35)
        #expect(Fixture.message(out, region + "KCDP") == nil)
        let national = try #require(Fixture.message(out, "national/2022/KCQG"))
        #expect(national.string("scope", "code") == "VN")
        #expect(national.string("scope", "name") == "Cả nước")
        // Prior-year months are not alerted before month 3 … but July 2021 is: 13.46 < 17.50.
        let priorAlert = Fixture.message(prior, "region:mien-trung-tay-nguyen/2021/KCQG")
        #expect(priorAlert?.string("severity") == "critical")
        try await AggregateSchemaCheck.expectValid([prior, out])
    }

    @Test func northernProvincesFirstHalf2024Estimates() async throws {
        let north = Fixture.codes(.bac)
        #expect(north.count == 28)
        let a = Fixture.aggregator()
        let plan: Int64 = 170_800 * m
        let kcqgPlan = plan * 419 / 1000
        let out = Fixture.apply(
            a,
            Fixture.regionUpdates(north, 2024, 6, .kcqg, plan: kcqgPlan, executed: 30_000 * m, status: .estimate)
                + Fixture.regionUpdates(
                    north, 2024, 6, .kcdp, plan: plan - kcqgPlan, executed: 52_000 * m, status: .estimate))
        let s = try #require(Fixture.message(out, "bac/2024/2024-06"))
        #expect(s.int("totals", "plan_vnd") == 170_800 * m)
        #expect(s.int("by_source", "KCQG", "plan_vnd") == 71_565_200_000)
        #expect(s.int("by_source", "KCDP", "plan_vnd") == 99_234_800_000)
        #expect(s.string("status") == "estimate")
        #expect(s.int("provinces_expected") == 28)
        #expect(s.string("provinces", "0", "status") == "estimate")
        #expect(s.string("provinces", "0", "by_source", "KCQG", "status") == "estimate")
        // Plan shares 41.9 % / 58.1 % of 170.8 billion.
        let share = Double(s.int("by_source", "KCQG", "plan_vnd") ?? 0) / Double(s.int("totals", "plan_vnd") ?? 1)
        #expect(abs(share - 0.419) < 1e-12)
        try await AggregateSchemaCheck.expectValid([out])
    }
}

/// The committed examples conform, and the schemas reject incomplete outputs.
@Suite struct AggregateSchemaTests {
    func example(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: SchemaValidation.repoRoot.appendingPathComponent("Schemas/examples/\(name)")))
    }

    func mutated(_ bytes: [UInt8], _ change: (inout [String: Any]) -> Void) throws -> [UInt8] {
        var object = Fixture.object(bytes)
        change(&object)
        return Array(try JSONSerialization.data(withJSONObject: object))
    }

    @Test func examplesAreValidAndSchemasAreStrict() async throws {
        let summary = try example("regional-summary.valid.json")
        let national = try example("regional-summary.national.valid.json")
        let alert = try example("alert.valid.json")
        let resolved = try example("alert.resolved.valid.json")
        let s = "regional-summary.v1.schema.json", a = "alert.v1.schema.json"
        let results = try await SchemaValidation.violations([
            (summary, s), (national, s), (alert, a), (resolved, a),
            (try mutated(summary) { $0["revision"] = nil }, s),
            (try mutated(summary) { $0["same_period_last_year"] = "none" }, s),
            (try mutated(national) { $0["regions"] = nil }, s),
            (try mutated(alert) { $0["state"] = "open" }, a),
            (try mutated(alert) { $0["threshold_pct"] = "17,50" }, a),
        ])
        #expect(results.prefix(4).allSatisfy { $0.isEmpty }, "\(results.prefix(4))")
        #expect(results.dropFirst(4).allSatisfy { !$0.isEmpty })
    }
}
