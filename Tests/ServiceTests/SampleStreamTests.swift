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
        #expect(committed == text, "regenerate with: swift run khuyencong sample-stream --output Sources/Service/Resources/sample-stream.jsonl")
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
        for (_, r) in finalReports() where r["period_end"] as? String == period && r["source"] as? String == source
            && codes.contains(r["province"] as? String ?? "") {
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
        for (_, r) in finalReports().sorted(by: { ($0.value["period_end"] as! String) < ($1.value["period_end"] as! String) }) {
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
