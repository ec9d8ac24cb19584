import Domain
import Testing

/// What a reader of the summary topic indexes a summary by, without decoding the rest.
@Suite struct SummaryHeaderTests {
    @Test func readsTheIndexingMembersOfAnAggregatorSummary() throws {
        let registries = try Registries.load()
        let aggregator = Aggregator(
            configuration: AggregatorConfiguration(registries: registries, rules: try AlertRules.bundled()))
        for u in SyntheticUpdates.updates(count: 200, registries: registries, seed: 7) {
            _ = aggregator.apply(u)
        }
        let summaries = aggregator.endBatch(at: "2026-01-01T00:00:00Z").summaries
        #expect(!summaries.isEmpty)
        for s in summaries {
            let header = try SummaryHeader.read(s.value).get()
            // The contract's key is {region}/{fiscal_year}/{period_end}.
            #expect(s.key == "\(header.region)/\(header.fiscalYear)/\(header.periodEnd)")
            #expect((header.revision ?? 0) >= 1)
        }
    }

    @Test(arguments: [
        ("not json", "not JSON"),
        (#"[1,2]"#, "not a JSON object"),
        (#"{"region":"bac","fiscal_year":2022}"#, "missing"),
        (#"{"region":"bac","fiscal_year":"2022","period_end":"2022-07"}"#, "fiscal_year has the wrong type"),
        (#"{"region":"bac","fiscal_year":2022,"period_end":"2022-07","revision":1.5}"#, "revision has the wrong type"),
        (#"{"region":"bac","fiscal_year":2022,"period_end":"2022-07","region":"nam"}"#, "not JSON"),
    ])
    func namesWhatIsWrong(text: String, problem: String) {
        guard case .failure(let error) = SummaryHeader.read(Array(text.utf8)) else {
            Issue.record("\(text) was read")
            return
        }
        #expect(error.description.contains(problem))
    }

    @Test func aNullRevisionIsNoRevision() throws {
        let text = #"{"period_end":"2022-07","revision":null,"fiscal_year":2022,"region":"nam","x":{"revision":3}}"#
        let header = try SummaryHeader.read(Array(text.utf8)).get()
        #expect(header == SummaryHeader(region: "nam", fiscalYear: 2022, periodEnd: "2022-07", revision: nil))
    }
}
