import Foundation
import Service
import Testing

@Suite struct LiveTableTests {
    func summary(_ region: String, _ period: String, executed: Int64, plan: Int64, rate: Double) -> LiveTable.Summary {
        let json = """
            {"region":"\(region)","fiscal_year":\(period.prefix(4)),"period_end":"\(period)","status":"actual",
             "provinces_expected":15,"provinces_reported":14,"provinces_carried":1,
             "totals":{"plan_vnd":\(plan),"executed_vnd":\(executed),"execution_rate_pct":\(rate)},
             "by_source":{"KCQG":{"execution_rate_pct":12.11},"KCDP":{"execution_rate_pct":39.38}},
             "revision":3,"unknown":true}
            """
        return try! JSONDecoder().decode(LiveTable.Summary.self, from: Data(json.utf8))
    }

    @Test func rendersTheLatestPeriodOfEachRegionAndTheActiveAlerts() throws {
        var table = LiveTable(bootstrap: "127.0.0.1:9092", inputTopic: "in.topic")
        table.summaries = [
            summary("mien-trung-tay-nguyen", "2022-06", executed: 1_000_000_000, plan: 72_773_000_000, rate: 1.37),
            summary("mien-trung-tay-nguyen", "2022-07", executed: 20_700_000_000, plan: 72_773_000_000, rate: 28.44),
        ]
        let alert =
            #"{"alert_id":"region:mien-trung-tay-nguyen/2022/KCQG","state":"raised","severity":"critical","#
            + #""scope":{"level":"region","code":"mien-trung-tay-nguyen","name":"x"},"fiscal_year":2022,"#
            + #""period_end":"2022-07","source":"KCQG","message":"Kinh phí KCQG thấp"}"#
        table.alerts = [try JSONDecoder().decode(LiveTable.Alert.self, from: Data(alert.utf8))]
        table.metricsText = """
            # TYPE khuyencong_updates_rejected_total counter
            khuyencong_updates_rejected_total{reason="malformed_json"} 2
            khuyencong_updates_rejected_total{reason="too_large"} 0
            khuyencong_updates_consumed_total 10
            """
        let text = table.render()
        let row = try #require(text.split(separator: "\n").first { $0.hasPrefix("Miền Trung") })
        #expect(row.contains("2022-07") && row.contains("20,700") && row.contains("72,773") && row.contains("28.44%"))
        #expect(row.contains("12.11%") && row.contains("39.38%") && row.contains("14/15 (+1 carried)"))
        #expect(text.contains("Phía Nam") && text.contains("waiting"))
        #expect(text.contains("Active alerts: 1") && text.contains("CRITICAL Kinh phí KCQG thấp"))
        #expect(text.contains("consumed 10") && text.contains("rejected 2 (malformed_json 2)"))
        #expect(text.contains("khuyencong produce FILE.jsonl --brokers 127.0.0.1:9092"))
        #expect(text.contains("kcat -P -b 127.0.0.1:9092 -t in.topic -K:"))
        #expect(!text.contains("\u{1B}"))
        #expect(table.frame().hasPrefix("\u{1B}[H"))
    }
}
