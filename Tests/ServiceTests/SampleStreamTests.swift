import Domain
import Foundation
import Service
import Testing

@Suite struct SampleStreamTests {
    let registries: Registries
    let text: String

    init() throws {
        registries = try Registries.load()
        text = SampleStream.generate(registries: registries)
    }

    @Test func generatorReproducesTheCommittedFile() throws {
        let path = try #require(SampleStream.bundledPath)
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        #expect(
            committed == text,
            "regenerate with: swift run khuyencong sample-stream --output Sources/Service/Resources/sample-stream.jsonl"
        )
    }

    /// The reports that count: per revision key the highest revision (first one kept on a tie),
    /// and per (province, year, source, period) an actual over an estimate.
    func finalReports() -> [String: [String: Any]] {
        var held: [String: [String: Any]] = [:]
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                object["schema"] as? String == "khuyencong.execution-update.v1",
                let province = object["province"] as? String, let period = object["period_end"] as? String,
                let source = object["source"] as? String, let status = object["status"] as? String,
                let revision = object["revision"] as? Int
            else { continue }
            let key = "\(province)/\(period)/\(source)/\(status)"
            if let h = held[key]?["revision"] as? Int, h >= revision { continue }
            held[key] = object
        }
        var current: [String: [String: Any]] = [:]
        for (_, report) in held.sorted(by: { $0.key < $1.key }) {
            let key = "\(report["province"]!)/\(report["period_end"]!)/\(report["source"]!)"
            if current[key]?["status"] as? String == "actual" { continue }
            current[key] = report
        }
        return current
    }

    func totals(region: RegionID, period: String, source: String) -> (plan: Int64, executed: Int64, count: Int) {
        let codes = Set(registries.r2004.units(in: region).map(\.code))
        var plan: Int64 = 0, executed: Int64 = 0, count = 0
        for (_, r) in finalReports()
        where r["period_end"] as? String == period && r["source"] as? String == source
            && codes.contains(r["province"] as? String ?? "")
        {
            plan += Int64(r["plan_vnd"] as? Int ?? 0)
            executed += Int64(r["executed_vnd"] as? Int ?? 0)
            count += 1
        }
        return (plan, executed, count)
    }

    @Test func regionalTotalsReproduceTheSeeds() {
        let m: Int64 = 1_000_000
        let q21 = totals(region: .mienTrungTayNguyen, period: "2021-12", source: "KCQG")
        let d21 = totals(region: .mienTrungTayNguyen, period: "2021-12", source: "KCDP")
        #expect(q21.count == 15 && d21.count == 15)
        #expect(q21.plan == 11_140 * m && q21.executed == 11_070 * m)
        #expect(d21.plan == 40_090 * m && d21.executed == 37_730 * m)

        let q21m7 = totals(region: .mienTrungTayNguyen, period: "2021-07", source: "KCQG")
        let d21m7 = totals(region: .mienTrungTayNguyen, period: "2021-07", source: "KCDP")
        #expect(ratePct(q21m7.executed + d21m7.executed, q21m7.plan + d21m7.plan) == "17.54")

        let q22 = totals(region: .mienTrungTayNguyen, period: "2022-07", source: "KCQG")
        let d22 = totals(region: .mienTrungTayNguyen, period: "2022-07", source: "KCDP")
        #expect(ratePct(q22.executed, q22.plan) == "12.11")
        #expect(ratePct(d22.executed, d22.plan) == "39.38")
        #expect(ratePct(q22.executed + d22.executed, q22.plan + d22.plan) == "28.44")
        #expect(q22.executed + d22.executed == 20_700 * m)

        let q24 = totals(region: .bac, period: "2024-06", source: "KCQG")
        let d24 = totals(region: .bac, period: "2024-06", source: "KCDP")
        #expect(q24.count == 28 && d24.count == 28)
        #expect(q24.plan + d24.plan == 170_800 * m)
        #expect(ratePct(q24.plan, q24.plan + d24.plan) == "41.90")
        #expect(ratePct(d24.plan, q24.plan + d24.plan) == "58.10")
    }

    @Test func cumulativeAmountsNeverDecreaseAndStayWithinPlan() {
        var last: [String: Int] = [:]
        for (_, r) in finalReports().sorted(by: {
            ($0.value["period_end"] as! String) < ($1.value["period_end"] as! String)
        }) {
            let series = "\(r["province"]!)/\(r["fiscal_year"]!)/\(r["source"]!)"
            let executed = r["executed_vnd"] as? Int ?? -1
            #expect(executed >= last[series, default: 0], "\(series) \(r["period_end"]!)")
            #expect(executed <= r["plan_vnd"] as? Int ?? 0)
            last[series] = executed
        }
    }

    /// Exact percentage with 2 decimals, half away from zero (amounts are positive here).
    func ratePct(_ numerator: Int64, _ denominator: Int64) -> String {
        let hundredths = (Int128(numerator) * 10_000 * 2 + Int128(denominator)) / (Int128(denominator) * 2)
        let cents = hundredths % 100
        return "\(hundredths / 100).\(cents < 10 ? "0" : "")\(cents)"
    }
}

/// The sample stream through the real decoder and Aggregator: the summaries carry the seeds.
@Suite struct SampleStreamAggregationTests {
    let aggregator: Aggregator
    let counts: FileValidator.Counts

    init() throws {
        let configuration = try AggregatorConfiguration.bundled()
        let path = try #require(SampleStream.bundledPath)
        let decoder = ExecutionUpdateDecoder(registries: configuration.registries)
        aggregator = Aggregator(configuration: configuration)
        var counts = FileValidator.Counts()
        for (_, line) in try LineReader(path: path) {
            guard case .success(let update) = decoder.decode(payload: line, key: InputKey.of(line)) else { continue }
            if case .accepted = aggregator.apply(update) { counts.accepted += 1 }
        }
        _ = aggregator.endBatch(at: "2026-01-01T00:00:00Z")
        self.counts = counts
    }

    func summary(_ scope: SummaryScope, _ year: Int, _ month: Int) throws -> [String: Any] {
        let bytes = try #require(
            aggregator.summary(
                scope, fiscalYear: year, periodEnd: YearMonth(year: year, month: month),
                computedAt: "2026-01-01T00:00:00Z"))
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    func number(_ object: [String: Any], _ path: String...) -> Double? {
        var current: Any? = object
        for key in path { current = (current as? [String: Any])?[key] }
        return (current as? NSNumber)?.doubleValue
    }

    @Test func mienTrungTayNguyen2021FullYear() throws {
        let s = try summary(.region(.mienTrungTayNguyen), 2021, 12)
        #expect(number(s, "by_source", "KCQG", "executed_vnd") == 11_070_000_000)
        #expect(number(s, "by_source", "KCQG", "plan_vnd") == 11_140_000_000)
        #expect(number(s, "by_source", "KCQG", "execution_rate_pct") == 99.37)
        #expect(number(s, "by_source", "KCDP", "executed_vnd") == 37_730_000_000)
        #expect(number(s, "by_source", "KCDP", "execution_rate_pct") == 94.11)
    }

    @Test func mienTrungTayNguyenSevenMonths2022() throws {
        let s = try summary(.region(.mienTrungTayNguyen), 2022, 7)
        #expect(s["status"] as? String == "actual")
        #expect(number(s, "provinces_reported") == 15)
        #expect(number(s, "totals", "executed_vnd") == 20_700_000_000)
        #expect(number(s, "totals", "execution_rate_pct") == 28.44)
        #expect(number(s, "by_source", "KCQG", "execution_rate_pct") == 12.11)
        #expect(number(s, "by_source", "KCDP", "execution_rate_pct") == 39.38)
        #expect(number(s, "same_period_last_year", "totals", "execution_rate_pct") == 17.54)
        let messages = aggregator.activeAlerts().compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.value)) as? [String: Any]
        }
        .compactMap { $0["message"] as? String }
        #expect(
            messages.contains(
                "Kinh phí KCQG khu vực miền Trung – Tây Nguyên 7 tháng đầu năm "
                    + "2022 đạt 12,11% kế hoạch năm, thấp hơn ngưỡng 17,50%"))
    }

    @Test func northernFirstHalf2024Estimates() throws {
        let s = try summary(.region(.bac), 2024, 6)
        #expect(s["status"] as? String == "estimate")
        #expect(number(s, "provinces_expected") == 28 && number(s, "provinces_reported") == 28)
        #expect(number(s, "totals", "plan_vnd") == 170_800_000_000)
        let kcqg = try #require(number(s, "by_source", "KCQG", "plan_vnd"))
        #expect((kcqg / 170_800_000_000 * 1000).rounded() == 419)  // 41.9%
    }
}
