import Foundation
import Prometheus
@testable import ReadSide
import Testing

/// The active alerts as Prometheus series: one set per active alert, gone when it resolves.
@Suite struct AlertSeriesTests {
    static func alert(
        state: String, severity: String, month: String = "07", rate: String = "12.11",
        threshold: String = "17.50", source: String = "KCQG"
    ) -> [UInt8] {
        Array(
            #"""
            {"schema":"khuyencong.alert.v1","alert_id":"region:mien-trung-tay-nguyen/2022/\#(source)",\#
            "state":"\#(state)",\#
            "severity":"\#(severity)","scope":{"level":"region","code":"mien-trung-tay-nguyen",\#
            "name":"Khu vực miền Trung – Tây Nguyên"},"fiscal_year":2022,"period_end":"2022-\#(month)",\#
            "source":"\#(source)",\#
            "execution_rate_pct":\#(rate),"expected_rate_pct":58.33,"threshold_pct":\#(threshold),\#
            "rule":"pace-critical",\#
            "message":"Kinh phí KCQG khu vực miền Trung – Tây Nguyên 7 tháng đầu năm 2022 \#
            đạt 12,11% kế hoạch năm, \#
            thấp hơn ngưỡng 17,50%","raised_at":"2022-08-10T09:00:00Z"}
            """#.utf8)
    }

    static let labels = #"code="mien-trung-tay-nguyen",fiscal_year="2022",level="region",source="KCQG""#

    /// The exposition as a scrape sees it: the alert series are brought up to date first.
    func emit(_ model: ReadModel, _ registry: PrometheusCollectorRegistry) -> String {
        model.flushAlertSeries()
        return registry.emitToString()
    }

    func series(_ model: ReadModel, _ registry: PrometheusCollectorRegistry) -> [String] {
        emit(model, registry).split(separator: "\n").map(String.init).filter { $0.hasPrefix("khuyencong_") }
    }

    @Test func appearWithARaisedAlertAndDisappearWhenItResolves() throws {
        let registry = PrometheusCollectorRegistry()
        let model = ReadModel(alertSeries: AlertSeries(registry: registry))
        let key = "region:mien-trung-tay-nguyen/2022/KCQG"
        #expect(
            series(model, registry).count == 1 && series(model, registry)[0].hasPrefix("khuyencong_read_side_ready 0"))
        model.setReadiness(.ready)
        #expect(emit(model, registry).contains("khuyencong_read_side_ready 1"))

        try model.apply(alertKey: key, value: Self.alert(state: "raised", severity: "critical"))
        var text = emit(model, registry)
        #expect(text.contains("# HELP khuyencong_alert_active "))
        #expect(sample(text, "khuyencong_alert_active", "severity") == 1)
        #expect(sample(text, "khuyencong_alert_execution_rate_pct") == 12.11)
        #expect(sample(text, "khuyencong_alert_threshold_pct") == 17.5)
        #expect(sample(text, "khuyencong_alert_period_month") == 7)

        // An update with the same labels keeps its series and moves their values.
        let before = series(model, registry).count
        try model.apply(
            alertKey: key,
            value: Self.alert(state: "updated", severity: "critical", month: "09", rate: "14.02", threshold: "25.00"))
        text = emit(model, registry)
        #expect(series(model, registry).count == before, "\(text)")
        #expect(sample(text, "khuyencong_alert_execution_rate_pct") == 14.02)
        #expect(sample(text, "khuyencong_alert_threshold_pct") == 25)
        #expect(sample(text, "khuyencong_alert_period_month") == 9)
        let info = text.split(separator: "\n").first { $0.hasPrefix("khuyencong_scope_info{") }.map(String.init) ?? ""
        #expect(
            info.contains(#"level="region""#) && info.contains(#"code="mien-trung-tay-nguyen""#)
                && info.contains(#"name="Khu vực miền Trung – Tây Nguyên""#) && info.contains("} 1"), "\(text)")
        #expect(text.contains(#"severity="critical""#))

        // De-escalation to warning: the critical series goes, the warning one comes; no stale value stays.
        try model.apply(
            alertKey: key,
            value: Self.alert(
                state: "updated", severity: "warning", month: "08",
                rate: "30.00", threshold: "40.00"))
        text = emit(model, registry)
        #expect(!text.contains(#"severity="critical""#), "\(text)")
        #expect(text.contains(#"severity="warning""#))
        #expect(sample(text, "khuyencong_alert_execution_rate_pct") == 30)
        #expect(sample(text, "khuyencong_alert_period_month") == 8)

        // A second alert on the same scope keeps the scope's info series until both resolve.
        let total = "region:mien-trung-tay-nguyen/2022/total"
        try model.apply(alertKey: total, value: Self.alert(state: "raised", severity: "warning", source: "total"))
        try model.apply(alertKey: key, value: Self.alert(state: "resolved", severity: "warning"))
        text = emit(model, registry)
        #expect(!text.contains(#"source="KCQG""#), "\(text)")
        #expect(text.contains("khuyencong_scope_info{"))
        try model.apply(alertKey: total, value: Self.alert(state: "resolved", severity: "warning", source: "total"))
        #expect(
            series(model, registry).count == 1 && series(model, registry)[0].hasPrefix("khuyencong_read_side_ready 1"),
            "\(series(model, registry))")
    }

    @Test func changesBetweenTwoScrapesShowOnlyTheLatestMessage() throws {
        let registry = PrometheusCollectorRegistry()
        let model = ReadModel(alertSeries: AlertSeries(registry: registry))
        let key = "region:mien-trung-tay-nguyen/2022/KCQG"
        try model.apply(alertKey: key, value: Self.alert(state: "raised", severity: "critical"))
        try model.apply(
            alertKey: key, value: Self.alert(state: "updated", severity: "warning", month: "08", rate: "30.00"))
        var text = emit(model, registry)
        #expect(!text.contains(#"severity="critical""#), "\(text)")
        #expect(sample(text, "khuyencong_alert_active", "severity") == 1)
        #expect(sample(text, "khuyencong_alert_execution_rate_pct") == 30)
        #expect(sample(text, "khuyencong_alert_period_month") == 8)

        // Resolved and raised again between scrapes: one set of series, the last values.
        try model.apply(alertKey: key, value: Self.alert(state: "resolved", severity: "warning"))
        try model.apply(alertKey: key, value: Self.alert(state: "raised", severity: "critical", month: "09"))
        text = emit(model, registry)
        #expect(series(model, registry).filter { $0.hasPrefix("khuyencong_alert_active{") }.count == 1, "\(text)")
        #expect(text.contains(#"severity="critical""#))
        #expect(sample(text, "khuyencong_alert_period_month") == 9)

        // Raised and resolved between scrapes: nothing left.
        try model.apply(alertKey: key, value: Self.alert(state: "resolved", severity: "critical"))
        #expect(series(model, registry).allSatisfy { $0.hasPrefix("khuyencong_read_side_ready") })
    }

    /// The value of the one sample of `name` (labels of the KCQG alert).
    func sample(_ text: String, _ name: String, _ extra: String? = nil) -> Double? {
        let line = text.split(separator: "\n").first { line in
            line.hasPrefix(name + "{") && line.contains(#"source="KCQG""#)
                && (extra == nil || line.contains(extra! + "="))
        }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }
    }
}
