import Testing
@testable import Domain

@Suite struct DecoderAcceptanceTests {
    let base = WireMessage()

    @Test func decodesEveryMember() throws {
        let u = try #require(Fixtures.decode(base.json).success)
        #expect(
            u
                == ExecutionUpdate(
                    reportID: "QNA-2022-07-KCQG.r3", province: "49", fiscalYear: 2022,
                    periodEnd: YearMonth(year: 2022, month: 7),
                    source: .kcqg, status: .actual, planVND: 10_000_000_000, executedVND: 1_211_000_000, revision: 3,
                    reportedAt: "2022-08-05T09:30:00+07:00", advancedVND: 500_000_000,
                    activities: [
                        Activity(category: .training, executedVND: 1_000_000_000, projects: 2, beneficiaries: 120),
                        Activity(category: .tradePromotion, executedVND: 211_000_000),
                    ],
                    consulting: Consulting(projects: 1, revenueVND: 0)))
    }

    @Test func optionalMembersMayBeAbsent() throws {
        let u = try #require(Fixtures.decode(base.without("advanced_vnd", "activities", "consulting").json).success)
        #expect(u.advancedVND == nil && u.activities == nil && u.consulting == nil)
        #expect(u.status == .actual && u.source == .kcqg)
    }

    @Test func everyCategoryAndKCDPEstimate() throws {
        let items = ActivityCategory.allCases.map { #"{"category":"\#($0.rawValue)","executed_vnd":1}"# }
        let json = base.with("activities", "[" + items.joined(separator: ",") + "]")
            .with("executed_vnd", "\(items.count)").with("source", #""KCDP""#).with("status", #""estimate""#).json
        let u = try #require(Fixtures.decode(json).success)
        #expect(u.activities?.map(\.category) == ActivityCategory.allCases)
        #expect(u.source == .kcdp && u.status == .estimate)
    }

    @Test func unknownMembersAreIgnoredAtAnyLevel() throws {
        let json = base.with("note", #"{"a":[1,2.5,null,true,"x"],"b":{}}"#)
            .with("activities", #"[{"category":"training","executed_vnd":1211000000,"ghi_chu":"đào tạo nghề"}]"#)
            .with("consulting", #"{"projects":1,"revenue_vnd":0,"extra":[]}"#).json
        let u = try #require(Fixtures.decode(json).success)
        #expect(u.activities?.count == 1)
        #expect(
            u
                == Fixtures.decode(
                    base.with("activities", #"[{"category":"training","executed_vnd":1211000000}]"#).json
                ).success)
    }

    @Test func memberOrderAndWhitespaceDoNotMatter() throws {
        var shuffled = base
        shuffled.members.reverse()
        let spaced =
            " \n\t{ " + shuffled.members.map { "\"\($0.name)\" :\r\n \($0.raw)" }.joined(separator: " ,\n") + " }\n"
        #expect(Fixtures.decode(spaced).success == Fixtures.decode(base.json).success)
    }

    @Test func escapedNamesAndValuesAreUnescaped() throws {
        let json = base.json.replacing(
            #""report_id":"QNA-2022-07-KCQG.r3""#, with: #""report\u005fid":"QNA\u002d2022-07-KCQG.r3""#)
        #expect(Fixtures.decode(json).success?.reportID == "QNA-2022-07-KCQG.r3")
    }

    @Test(arguments: ["0", "1000000000000000", "-0"])
    func amountBoundariesAccepted(_ amount: String) throws {
        let json = base.with("plan_vnd", amount).with("advanced_vnd", amount)
            .with("consulting", #"{"projects":\#(amount),"revenue_vnd":\#(amount)}"#).json
        let u = try #require(Fixtures.decode(json).success)
        #expect(u.planVND == (amount == "1000000000000000" ? Money.maxAmount : 0))
    }

    @Test func executedAtTheMaximumWithActivities() throws {
        let json = base.with("executed_vnd", "1000000000000000")
            .with(
                "activities",
                #"[{"category":"training","executed_vnd":999999999999999},{"category":"training","executed_vnd":1}]"#
            ).json
        #expect(Fixtures.decode(json).success?.executedVND == Money.maxAmount)
    }

    @Test(arguments: [("1", Int64(1)), ("9007199254740991", Int64(9_007_199_254_740_991))])
    func revisionBoundariesAccepted(_ raw: String, _ value: Int64) {
        #expect(Fixtures.decode(base.with("revision", raw).json).success?.revision == value)
    }

    @Test(arguments: ["2000", "2100"])
    func fiscalYearBoundaries(_ year: String) {
        // Province 01 exists in both registries.
        let json = base.with("fiscal_year", year).with("period_end", "\"\(year)-12\"").with("province", #""01""#).json
        #expect(Fixtures.decode(json, key: "01").success?.fiscalYear == Int(year))
    }

    @Test(arguments: [
        "2022-08-05T09:30:00Z", "2022-08-05T09:30:00z", "2022-08-05t09:30:00+07:00", "2022-08-05T09:30:00.123456-03:30",
        "2024-02-29T23:59:59+14:00", "2022-12-31T00:00:00-00:00",
    ])
    func validTimestampsAreKeptAsSent(_ ts: String) {
        #expect(Fixtures.decode(base.with("reported_at", "\"\(ts)\"").json).success?.reportedAt == ts)
    }

    @Test(arguments: [
        "2022-08-05 09:30:00Z", "2022-08-05T09:30:00", "2022-08-05T09:30Z", "2023-02-29T00:00:00Z",
        "2022-13-01T00:00:00Z",
        "2022-08-05T24:00:00Z", "2022-08-05T09:60:00Z", "2022-08-05T09:30:60Z", "2022-08-05T09:30:00+0700",
        "2022-08-05T09:30:00.Z", "2022-08-05T09:30:00+24:00", "22-08-05T09:30:00Z", "2022-08-05T09:30:00+07:00 ", "",
    ])
    func invalidTimestampsAreInvalidField(_ ts: String) {
        let r = Fixtures.rejection(base.with("reported_at", "\"\(ts)\"").json)
        #expect(r?.reason == .invalidField)
        #expect(r?.field == "/reported_at")
    }

    @Test func provinceOfTheRegistryInForce() {
        // 48 Đà Nẵng exists in both; 49 Quảng Nam only up to 2025-06.
        let june = base.with("fiscal_year", "2025").with("period_end", #""2025-06""#)
        #expect(Fixtures.decode(june.json).success != nil)
        let july = june.with("period_end", #""2025-07""#).with("province", #""48""#)
        #expect(Fixtures.decode(july.json, key: "48").success?.province == "48")
    }

    @Test func canonicalJSONRoundTrips() throws {
        let u = try #require(Fixtures.decode(base.json).success)
        #expect(String(decoding: u.canonicalJSON(), as: UTF8.self) == base.json)
        #expect(Fixtures.decoder.decode(payload: u.canonicalJSON(), key: Array("49".utf8)).success == u)
    }
}
