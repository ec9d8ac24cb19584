import Dashboard
import Domain
import Foundation
@testable import ReadSide
import Testing

/// The read model without a broker: what it keeps, what it serves, how it is bounded.
@Suite struct ReadModelTests {
    static func filled() throws -> ReadModel {
        let model = ReadModel()
        let outputs = Seed.outputs()
        for s in outputs.summaries { try model.apply(summaryKey: s.key, value: s.value) }
        for a in outputs.alerts { try model.apply(alertKey: a.key, value: a.value) }
        return model
    }

    @Test func keepsTheLatestSummaryAndAlertOfEachKey() throws {
        let model = try Self.filled()
        let outputs = Seed.outputs()
        #expect(Set(model.summaries().map(\.key)) == Set(outputs.summaries.map(\.key)))
        let july = try #require(
            model.summary(
                .region(.mienTrungTayNguyen), fiscalYear: 2022,
                period: YearMonth(year: 2022, month: 7)))
        #expect(july.bytes == outputs.summaries.last { $0.key == "mien-trung-tay-nguyen/2022/2022-07" }?.value)
        #expect(july.message.by_source?.KCQG?.execution_rate_pct == Hundredths(1211))
        #expect(july.message.by_source?.KCDP?.execution_rate_pct == Hundredths(3938))
        #expect(july.message.totals?.execution_rate_pct == Hundredths(2844))
        #expect(july.message.totals?.executed_vnd == 20_700_000_000)
        // The region's KCQG alert is critical in July 2022.
        let key = "region:mien-trung-tay-nguyen/2022/KCQG"
        let alert = try #require(model.alerts(activeOnly: true).first { $0.key == key })
        #expect(alert.message.severity == "critical")
        #expect(alert.message.threshold_pct == Hundredths(1750))

        // An older revision of a key (a repeat after a crash) does not replace the newer one.
        let older = String(decoding: july.bytes, as: UTF8.self)
            .replacingOccurrences(of: #""revision":60"#, with: #""revision":59"#)
        #expect(older != String(decoding: july.bytes, as: UTF8.self))
        try model.apply(summaryKey: july.key, value: Array(older.utf8))
        #expect(model.summary(july.scope, fiscalYear: 2022, period: july.period)?.bytes == july.bytes)
    }

    @Test func isBoundedByKeysNotMessages() throws {
        let model = ReadModel()
        for revision in 1...500 {
            for region in ["bac", "nam"] {
                let month = revision % 3 + 1
                let json =
                    #"{"region":"\#(region)","fiscal_year":2022,"period_end":"2022-0\#(month)","#
                    + #""revision":\#(revision)}"#
                try model.apply(summaryKey: "\(region)/2022/2022-0\(revision % 3 + 1)", value: Array(json.utf8))
            }
        }
        #expect(model.summaries().count == 6)
        #expect(model.summaries(region: "nam").map(\.period.month) == [1, 2, 3])
        #expect(model.summaries(region: "nam").last?.message.revision == 500)
    }

    @Test func resolvedAlertsLeaveTheActiveList() throws {
        let model = try Self.filled()
        let key = "region:mien-trung-tay-nguyen/2022/KCQG"
        let resolved =
            #"{"alert_id":"\#(key)","state":"resolved","severity":"critical","#
            + #""scope":{"level":"region","code":"mien-trung-tay-nguyen","name":"x"},"fiscal_year":2022,"#
            + #""period_end":"2022-08","source":"KCQG"}"#
        try model.apply(alertKey: key, value: Array(resolved.utf8))
        #expect(!model.alerts(activeOnly: true).contains { $0.key == key })
        #expect(model.alerts(activeOnly: false).first { $0.key == key }?.message.state == "resolved")
    }

    @Test func unreadableMessagesAreNamedNotApplied() throws {
        let model = ReadModel()
        #expect(throws: ReadModel.Unreadable.self) { try model.apply(summaryKey: "x", value: Array("not json".utf8)) }
        #expect(throws: ReadModel.Unreadable.self) {
            let north = #"{"region":"north","fiscal_year":2022,"period_end":"2022-07"}"#
            try model.apply(summaryKey: "x", value: Array(north.utf8))
        }
        #expect(model.summaries().isEmpty && model.version == 0)
    }

    @Test func aSummaryWhoseMembersDoNotReadShowsItsHeader() throws {
        let model = ReadModel()
        let odd = #"{"region":"nam","fiscal_year":2022,"period_end":"2022-07","revision":4,"totals":"many"}"#
        try model.apply(summaryKey: "nam/2022/2022-07", value: Array(odd.utf8))
        let held = try #require(model.summaries().first)
        #expect(held.bytes == Array(odd.utf8) && held.fiscalYear == 2022 && held.revision == 4)
        #expect(held.message.region == "nam" && held.message.revision == 4 && held.message.totals == nil)
    }

    @Test func percentagesAreReadExactly() throws {
        #expect(Hundredths.parse("12.11") == 1211)
        #expect(Hundredths.parse("-10.08") == -1008)
        #expect(Hundredths.parse("17.5") == 1750)
        #expect(Hundredths.parse("100") == 10000)
        #expect(Hundredths.parse("1.234") == nil)
        struct Box: Decodable { var p: Hundredths }
        // 10^15 % of a 1-đồng plan: beyond a Double's exact integers, still exact here.
        let big = try JSONDecoder().decode(Box.self, from: Data(#"{"p":100000000000000000.01}"#.utf8))
        #expect(big.p.value == 10_000_000_000_000_000_001)
    }

    @Test func changesWakeWatchers() async throws {
        let model = ReadModel()
        let changes = model.changes()
        let bac = #"{"region":"bac","fiscal_year":2022,"period_end":"2022-07"}"#
        try model.apply(summaryKey: "bac/2022/2022-07", value: Array(bac.utf8))
        var iterator = changes.makeAsyncIterator()
        #expect(await iterator.next() == 1)
    }
}
