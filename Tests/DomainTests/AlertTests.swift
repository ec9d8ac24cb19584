import Foundation
import Testing
@testable import Domain

/// The alert state machine under the default rules, and rules files.
@Suite struct AlertTests {
    let key = "province:70/2024/KCQG"

    func step(_ a: Aggregator, month: Int = 7, plan: Int64 = 10_000, executed: Int64, revision: Int64, at ts: String)
        -> [String: Any]?
    {
        let out = Fixture.apply(
            a, [Fixture.update("70", 2024, month, .kcqg, plan: plan, executed: executed, revision: revision)], at: ts)
        return Fixture.message(out, key)
    }

    @Test func hysteresisEscalationAndResolution() throws {
        let a = Fixture.aggregator()
        // July: pace 58.33, critical below 17.50, warning below 35.00; margins +2 points.
        let raised = try #require(step(a, executed: 1_000, revision: 1, at: "2024-08-01T00:00:00Z"))
        #expect(raised.string("state") == "raised")
        #expect(raised.string("severity") == "critical")
        #expect(raised.string("scope", "name") == "Bình Phước")
        #expect(
            raised.string("message") == "Kinh phí KCQG Bình Phước 7 tháng đầu năm 2024 đạt 10,00% "
                + "kế hoạch năm, thấp hơn ngưỡng 17,50%")
        #expect(step(a, executed: 1_800, revision: 2, at: "2024-08-02T00:00:00Z") == nil)  // 18 < 17.5 + 2
        #expect(step(a, executed: 1_949, revision: 3, at: "2024-08-03T00:00:00Z") == nil)
        let warning = try #require(step(a, executed: 1_950, revision: 4, at: "2024-08-04T00:00:00Z"))
        #expect(warning.string("state") == "updated")
        #expect(warning.string("severity") == "warning")
        #expect(warning.string("rule") == "pace-warning")
        #expect(warning.double("threshold_pct") == 35)
        #expect(warning.string("raised_at") == "2024-08-01T00:00:00Z")
        #expect(step(a, executed: 3_699, revision: 5, at: "2024-08-05T00:00:00Z") == nil)  // < 35 + 2
        let resolved = try #require(step(a, executed: 3_700, revision: 6, at: "2024-08-06T00:00:00Z"))
        #expect(resolved.string("state") == "resolved")
        #expect(resolved.string("severity") == "warning")
        #expect(
            resolved.string("message") == "Kinh phí KCQG Bình Phước 7 tháng đầu năm 2024 đạt "
                + "37,00% kế hoạch năm, đạt ngưỡng kết thúc cảnh báo 37,00%; hết cảnh báo")
        #expect(a.activeAlerts().allSatisfy { $0.key != key })

        // A new episode: raised again with a new raised_at; escalation is immediate.
        let again = try #require(step(a, executed: 3_400, revision: 7, at: "2024-08-07T00:00:00Z"))
        #expect(again.string("state") == "raised")
        #expect(again.string("severity") == "warning")
        #expect(again.string("raised_at") == "2024-08-07T00:00:00Z")
        let critical = try #require(step(a, executed: 1_749, revision: 8, at: "2024-08-08T00:00:00Z"))
        #expect(critical.string("severity") == "critical")
        #expect(critical.string("state") == "updated")
        // M moves while active: updated even with the same severity (August: critical below 20).
        let moved = try #require(step(a, month: 8, executed: 1_000, revision: 1, at: "2024-09-01T00:00:00Z"))
        #expect(moved.string("state") == "updated")
        #expect(moved.string("period_end") == "2024-08")
        #expect(moved.double("threshold_pct") == 20)
        #expect(moved.double("expected_rate_pct") == 66.67)
        #expect(moved.string("raised_at") == "2024-08-07T00:00:00Z")
        #expect(a.activeAlerts().contains { $0.key == key })
        // The gauges' cheap view agrees with the messages: same alerts, same severities.
        let severities = a.activeAlertSeverities().map { "\($0.scope.id)|\($0.severity.rawValue)" }.sorted()
        let fromMessages = a.activeAlerts().map { message in
            "\(message.key.prefix { $0 != "/" })|\(Fixture.object(message.value).string("severity") ?? "?")"
        }.sorted()
        #expect(severities == fromMessages)
        #expect(severities.contains("province:70|critical"))
        // The plan becoming 0 resolves.
        let zero = try #require(step(a, month: 9, plan: 0, executed: 0, revision: 1, at: "2024-10-01T00:00:00Z"))
        #expect(zero.string("state") == "resolved")
        #expect(zero.isNull("execution_rate_pct"))
        #expect(zero.string("severity") == "critical")
        #expect(
            zero.string("message") == "Kinh phí KCQG Bình Phước 9 tháng đầu năm 2024: kế hoạch "
                + "năm bằng 0, hết cảnh báo")
    }

    @Test func ratesAreComparedExactlyNotRounded() throws {
        let a = Fixture.aggregator()
        // 17.4999 % rounds to 17.50 but is below the July critical threshold.
        let out = Fixture.apply(a, [Fixture.update("70", 2024, 7, .kcqg, plan: 1_000_000, executed: 174_999)])
        let alert = try #require(Fixture.message(out, key))
        #expect(alert.string("severity") == "critical")
        #expect(alert.double("execution_rate_pct") == 17.5)
        // Exactly 17.5 % is not below 17.5 %.
        let b = Fixture.aggregator()
        let out2 = Fixture.apply(b, [Fixture.update("70", 2024, 7, .kcqg, plan: 1_000_000, executed: 175_000)])
        #expect(Fixture.message(out2, key)?.string("severity") == "warning")
    }

    @Test func earlyMonthsAreNotEvaluatedAndYearEndUsesThePlan() async throws {
        let a = Fixture.aggregator()
        let feb = Fixture.apply(a, [Fixture.update("70", 2024, 2, .kcqg, plan: 1000, executed: 0)])
        #expect(feb.alerts.isEmpty)
        let dec = Fixture.apply(a, [Fixture.update("72", 2024, 12, .kcqg, plan: 1000, executed: 800)])
        let w = try #require(Fixture.message(dec, "province:72/2024/KCQG"))
        #expect(w.string("rule") == "year-end-warning")
        #expect(w.double("threshold_pct") == 90)
        #expect(w.double("expected_rate_pct") == 100)
        #expect(
            w.string("message") == "Kinh phí KCQG Tây Ninh cả năm 2024 đạt 80,00% kế hoạch năm, "
                + "thấp hơn ngưỡng 90,00%")
        let c = Fixture.apply(a, [Fixture.update("72", 2024, 12, .kcqg, plan: 1000, executed: 650, revision: 2)])
        #expect(Fixture.message(c, "province:72/2024/KCQG")?.string("rule") == "year-end-critical")
        // The region's latest month is December (Tây Ninh; Bình Phước carried from February at
        // 0 of 1000): 800 of 2000 = 40 % is critical under the year-end rule.
        let region = try #require(Fixture.message(dec, "region:nam/2024/KCQG"))
        #expect(region.string("period_end") == "2024-12")
        #expect(region.string("rule") == "year-end-critical")
        #expect(region.double("execution_rate_pct") == 40)
        #expect(
            region.string("message") == "Kinh phí KCQG khu vực phía Nam cả năm 2024 đạt 40,00% kế "
                + "hoạch năm, thấp hơn ngưỡng 70,00%")
        try await AggregateSchemaCheck.expectValid([feb, dec, c])
    }

    @Test func rulesFileReplacesTheDefaults() throws {
        let text = """
            {"schema": "khuyencong.alert-rules.v1", "recovery_margin_points": 0.5,
             "bands": [{"months": [1, 12], "basis": "plan",
                        "critical": {"rule": "low", "below_pct": 10.25},
                       "warning": {"rule": "lowish", "below_pct": 20}}]}
            """
        let rules = try AlertRules.decode(Array(text.utf8), file: "rules.json")
        #expect(rules.recoveryMarginHundredths == 50)
        #expect(rules.bands.first?.critical.belowHundredths == 1025)
        let a = Fixture.aggregator(rules: rules)
        let out = Fixture.apply(a, [Fixture.update("70", 2024, 1, .kcqg, plan: 10_000, executed: 1_000)])
        #expect(Fixture.message(out, key)?.string("rule") == "low")
        #expect(Fixture.message(out, key)?.double("threshold_pct") == 10.25)
    }

    @Test func invalidRulesFileIsAClearError() {
        let cases: [(String, String)] = [
            ("[]", "not a JSON object"),
            (#"{"schema": "x", "recovery_margin_points": 2, "bands": []}"#, "\"schema\""),
            (
                #"{"schema": "khuyencong.alert-rules.v1", "recovery_margin_points": 2, "bands": [{"months": [0, "#
                    + #"3], "basis": "pace", "critical": {"rule": "a", "below_pct": 1}, "warning": {"rule": "b", "#
                    + #""below_pct": 2}}]}"#, "/bands/0/months"
            ),
            (
                #"{"schema": "khuyencong.alert-rules.v1", "recovery_margin_points": 2, "bands": [{"months": [1, "#
                    + #"3], "basis": "pace", "critical": {"rule": "a", "below_pct": 50}, "warning": {"rule": "b", "#
                    + #""below_pct": 2}}]}"#, "critical threshold"
            ),
            (
                #"{"schema": "khuyencong.alert-rules.v1", "recovery_margin_points": 2.001, "bands": []}"#,
                "/recovery_margin_points"
            ),
        ]
        for (text, problem) in cases {
            do {
                _ = try AlertRules.decode(Array(text.utf8), file: "bad.json")
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.hasPrefix("bad.json: "))
                #expect(error.description.contains(problem), "\(error.description)")
            }
        }
        #expect(throws: AlertRulesError.self) { try AlertRules.load(path: "/nonexistent/rules.json") }
    }
}
