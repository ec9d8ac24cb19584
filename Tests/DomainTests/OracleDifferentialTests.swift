import Domain
import Foundation
import SchemaTestSupport
import Testing
import TestSupport

/// Differential test against an independent reference model (Tests/Oracle/reference_model.py,
/// brute force, written from the contract alone): random but meaningful streams go through the
/// `Aggregator` batch by batch and through the model; every outcome, emitted summary and alert
/// (JSON-parsed, `computed_at` removed) and their order must agree, across restarts that
/// restore the aggregator from its changelog.
@Suite(.offThePool) struct OracleDifferentialTests {
    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func aggregatorMatchesReferenceModel(seed: UInt64) async throws {
        var gen = StreamGenerator(seed: seed)
        let batches = gen.stream(batches: 14)
        let expected = try await ReferenceModel.run(batches)
        #expect(expected.count == batches.count)

        // Restarts from the changelog alone on the way must not change a single output.
        var aggregator = Aggregator(configuration: try .bundled())
        var changelog: [ChangelogRecord] = []
        var mismatches: [String] = []
        var compared = (summaries: 0, alerts: 0, outcomes: [String: Int]())
        for (i, batch) in batches.enumerated() where i < expected.count {
            if i % 5 == 4 {
                aggregator = Aggregator(configuration: try .bundled())
                try aggregator.restore(changelog)
            }
            let outcomes = batch.updates.map { OracleJSON.outcome(aggregator.apply($0)) }
            let out = aggregator.endBatch(at: batch.timestamp)
            changelog += out.changelog
            let want = expected[i]
            compared.summaries += want.summaries.count
            compared.alerts += want.alerts.count
            for o in outcomes { compared.outcomes[o, default: 0] += 1 }
            if outcomes != want.outcomes {
                mismatches.append("batch \(i) outcomes: swift \(outcomes) model \(want.outcomes)")
            }
            mismatches += OracleJSON.compare("batch \(i) summaries", swift: out.summaries, model: want.summaries)
            mismatches += OracleJSON.compare("batch \(i) alerts", swift: out.alerts, model: want.alerts)
            if mismatches.count > 6 { break }
        }
        print(
            "oracle seed \(seed): \(compared.summaries) summaries, \(compared.alerts) alerts, outcomes "
                + "\(compared.outcomes.sorted { $0.key < $1.key })")
        #expect(mismatches.isEmpty, Comment(rawValue: "seed \(seed):\n" + mismatches.prefix(6).joined(separator: "\n")))
    }

    /// Rules that leave months unevaluated (here 7–11): the state is kept there, but a plan
    /// that becomes 0 still resolves the active alert (contract: "A scope whose plan becomes 0
    /// resolves its active alert"), with the levels of the band it was last evaluated in.
    @Test func planZeroResolvesInAMonthNoBandEvaluates() async throws {
        let rulesText = #"""
            {"schema": "khuyencong.alert-rules.v1", "recovery_margin_points": 2, "bands": [
              {"months": [3, 6], "basis": "pace", "critical": {"rule": "h1-critical", "below_pct": 30},
               "warning": {"rule": "h1-warning", "below_pct": 60}}]}
            """#
        let rules = try AlertRules.decode(Array(rulesText.utf8), file: "rules.json")
        let aggregator = Aggregator(
            configuration: AggregatorConfiguration(registries: try Registries.load(), rules: rules))
        func update(_ month: Int, plan: Int64, executed: Int64) -> ExecutionUpdate {
            ExecutionUpdate(
                reportID: "BP-\(month)", province: "70", fiscalYear: 2024,
                periodEnd: YearMonth(year: 2024, month: month),
                source: .kcqg, status: .actual, planVND: plan, executedVND: executed, revision: 1,
                reportedAt: "2024-10-01T00:00:00Z")
        }
        let batches = [
            OracleBatch(timestamp: "2024-07-01T00:00:00Z", updates: [update(6, plan: 1000, executed: 10)]),
            OracleBatch(timestamp: "2024-08-01T00:00:00Z", updates: [update(8, plan: 1000, executed: 20)]),
            OracleBatch(timestamp: "2024-10-01T00:00:00Z", updates: [update(9, plan: 0, executed: 0)]),
        ]
        let expected = try await ReferenceModel.run(batches, rules: rulesText)
        var mismatches: [String] = [], states: [String] = []
        for (i, batch) in batches.enumerated() where i < expected.count {
            batch.updates.forEach { _ = aggregator.apply($0) }
            let out = aggregator.endBatch(at: batch.timestamp)
            mismatches += OracleJSON.compare("batch \(i) alerts", swift: out.alerts, model: expected[i].alerts)
            for a in out.alerts where a.key == "province:70/2024/KCQG" {
                let object = try JSONSerialization.jsonObject(with: Data(a.value)) as? [String: Any]
                states.append("\(object?["state"] ?? "") \(object?["period_end"] ?? "") \(object?["rule"] ?? "")")
            }
        }
        #expect(mismatches.isEmpty, Comment(rawValue: mismatches.joined(separator: "\n")))
        #expect(states == ["raised 2024-06 h1-critical", "resolved 2024-09 h1-critical"])
    }

    /// The recovery margins step by step (narrow windows a random stream rarely hits): raised
    /// critical, kept critical above its threshold as M moves, critical → warning inside the
    /// warning margin, resolved. Messages never claim "below" a threshold the rate is above.
    @Test func hysteresisWalkMatchesReferenceModel() async throws {
        func update(_ month: Int, _ executed: Int64, _ revision: Int64) -> ExecutionUpdate {
            ExecutionUpdate(
                reportID: "BP-\(month)-r\(revision)", province: "70", fiscalYear: 2024,
                periodEnd: YearMonth(year: 2024, month: month), source: .kcqg, status: .actual,
                planVND: 1000, executedVND: executed, revision: revision, reportedAt: "2024-09-01T00:00:00Z")
        }
        // July: critical < 17.5, warning < 35; August: critical < 20 (+2 = 22), warning < 40 (+2 = 42).
        let steps: [ExecutionUpdate] = [
            update(7, 100, 1), update(7, 180, 2), update(8, 200, 1), update(8, 410, 2), update(8, 430, 3),
        ]
        let batches = steps.enumerated().map {
            OracleBatch(timestamp: "2024-09-0\($0.offset + 1)T00:00:00Z", updates: [$0.element])
        }
        let expected = try await ReferenceModel.run(batches)
        let aggregator = Aggregator(configuration: try .bundled())
        var mismatches: [String] = [], messages: [String] = []
        for (i, batch) in batches.enumerated() where i < expected.count {
            batch.updates.forEach { _ = aggregator.apply($0) }
            let out = aggregator.endBatch(at: batch.timestamp)
            mismatches += OracleJSON.compare("batch \(i) summaries", swift: out.summaries, model: expected[i].summaries)
            mismatches += OracleJSON.compare("batch \(i) alerts", swift: out.alerts, model: expected[i].alerts)
            for a in out.alerts where a.key == "province:70/2024/KCQG" {
                let object = try JSONSerialization.jsonObject(with: Data(a.value)) as? [String: Any]
                messages.append("\(object?["state"] ?? "") \(object?["message"] ?? "")")
            }
        }
        #expect(mismatches.isEmpty, Comment(rawValue: mismatches.joined(separator: "\n")))
        #expect(
            messages == [
                "raised Kinh phí KCQG Bình Phước 7 tháng đầu năm 2024 đạt 10,00% kế hoạch năm, "
                    + "thấp hơn ngưỡng 17,50%",
                "updated Kinh phí KCQG Bình Phước 8 tháng đầu năm 2024 đạt 20,00% kế hoạch năm, "
                    + "chưa đạt ngưỡng hạ mức cảnh báo 22,00%",
                "updated Kinh phí KCQG Bình Phước 8 tháng đầu năm 2024 đạt 41,00% kế hoạch năm, "
                    + "chưa đạt ngưỡng kết thúc cảnh báo 42,00%",
                "resolved Kinh phí KCQG Bình Phước 8 tháng đầu năm 2024 đạt 43,00% kế hoạch năm, "
                    + "đạt ngưỡng kết thúc cảnh báo 42,00%; hết cảnh báo",
            ])
    }
}

struct OracleBatch {
    var timestamp: String
    var updates: [ExecutionUpdate]
}

/// A seeded stream: a handful of provinces across all regions and the 2025 merger, both sources,
/// estimates and actuals, revisions with duplicates, stale and conflicting resends, late
/// earlier-month reports, FY2024–2026, plans around the alert thresholds, some plans of 0.
struct StreamGenerator {
    private var random: SplitMix64
    /// 2004 codes: same unit in 2025 (01, 38, 96), merged (02→08, 49→48, 60→68, 70→75, 95→96).
    private let codes2004 = ["01", "02", "08", "38", "48", "49", "60", "68", "70", "75", "95", "96"]
    private let codes2025 = ["01", "08", "38", "48", "68", "75", "96"]
    private var sent: [RevisionKey: ExecutionUpdate] = [:]
    private var reportCount = 0

    init(seed: UInt64) { random = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15) }

    private mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(random.next() % UInt64(range.count))
    }
    private mutating func pick<T>(_ xs: [T]) -> T { xs[int(0...(xs.count - 1))] }
    private mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }

    mutating func stream(batches: Int) -> [OracleBatch] {
        (0..<batches).map { b in
            let ts = String(format: "2026-01-%02dT%02d:00:00Z", 1 + b / 24, b % 24)
            return OracleBatch(timestamp: ts, updates: (0..<int(1...9)).map { _ in update(batch: b, of: batches) })
        }
    }

    private mutating func update(batch b: Int, of n: Int) -> ExecutionUpdate {
        // Resends of something already sent: duplicate, stale, correction, conflict.
        if !sent.isEmpty, chance(30) {
            let key = sent.keys.sorted()[int(0...(sent.count - 1))]
            guard var u = sent[key] else { return fresh(batch: b, of: n) }
            switch int(0...3) {
            case 0: return u  // duplicate
            case 1:  // stale (or duplicate of revision 1)
                let held = u.revision
                u.revision = max(1, held - 1)
                if u.revision < held {
                    u.executedVND += 1
                    u.activities = activities(u.executedVND)
                }
                return u
            case 2:  // conflict: same revision, other content (absent vs 0, item order differ too)
                if let items = u.activities, items.count > 1, chance(50) {
                    u.activities = items.reversed()
                } else if u.advancedVND == nil, chance(50) {
                    u.advancedVND = 0
                } else if u.consulting == nil, chance(30) {
                    u.consulting = Consulting(projects: 0, revenueVND: 0)
                } else {
                    u.reportID += "x"
                }
                return u
            default:  // correction
                u.revision += Int64(int(1...3))
                u.executedVND = amount(plan: u.planVND, month: u.periodEnd.month)
                u.advancedVND = chance(50) ? u.executedVND / 2 : nil
                u.activities = activities(u.executedVND)
                sent[key] = u
                return u
            }
        }
        return fresh(batch: b, of: n)
    }

    private mutating func fresh(batch b: Int, of n: Int) -> ExecutionUpdate {
        // Months move forward through the stream, with late earlier-month reports mixed in.
        let year = pick([2024, 2025, 2025, 2026])
        let progress = 1 + (b * 12) / n
        let month = chance(75) ? min(12, max(1, progress + int(-1...1))) : int(1...12)
        let period = YearMonth(year: year, month: month)
        let province = period < YearMonth(year: 2025, month: 7) ? pick(codes2004) : pick(codes2025)
        let plan: Int64 =
            chance(6)
            ? 0 : pick([20_000, 40_000, 3, 7, 1_000_000_000, 2_500_000_000, 12_345_678_901, 999_999_999_999_999])
        reportCount += 1
        let u = ExecutionUpdate(
            reportID: "R\(reportCount)", province: province, fiscalYear: year, periodEnd: period,
            source: chance(50) ? .kcqg : .kcdp, status: chance(30) ? .estimate : .actual,
            planVND: plan, executedVND: amount(plan: plan, month: month),
            revision: Int64(int(1...3)), reportedAt: pick(["2026-01-01T00:00:00Z", "2026-01-01T07:00:00+07:00"]))
        var v = u
        v.advancedVND = chance(40) ? u.executedVND / 3 : nil
        v.activities = activities(u.executedVND)
        v.consulting =
            chance(20) ? Consulting(projects: Int64(int(0...3)), revenueVND: Int64(int(0...9)) * 1_000_000) : nil
        if let held = sent[v.revisionKey], held.revision >= v.revision { v.revision = held.revision + 1 }
        sent[v.revisionKey] = v
        return v
    }

    /// Sometimes none, sometimes an empty list (executed 0 only), else two items adding up.
    private mutating func activities(_ executed: Int64) -> [Activity]? {
        if chance(50) { return nil }
        if executed == 0, chance(50) { return [] }
        let part = executed / 3
        return [
            Activity(category: .training, executedVND: executed - part, projects: Int64(int(0...4))),
            Activity(category: .tradePromotion, executedVND: part, beneficiaries: chance(50) ? 120 : nil),
        ]
    }

    /// Executed around the alert thresholds: a random fraction of pace, now and then above plan.
    private mutating func amount(plan: Int64, month: Int) -> Int64 {
        if plan == 0 { return Int64(int(0...5)) }
        let permille = Int64(int(0...1300)) * Int64(month) / 12
        return min(Money.maxAmount, plan / 1000 * permille + plan % 1000 * permille / 1000 + Int64(int(0...1)))
    }
}

/// Runs Tests/Oracle/reference_model.py once on a temp file (files, not pipes: see SchemaValidation).
enum ReferenceModel {
    struct Batch {
        var outcomes: [String]
        var summaries: [(key: String, value: Any)]
        var alerts: [(key: String, value: Any)]
    }
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// `rules`: the text of a rules file replacing the defaults (the same file the caller
    /// gives the aggregator).
    static func run(_ batches: [OracleBatch], rules: String? = nil) async throws -> [Batch] {
        let request: [String: Any] = [
            "batches": batches.map { b in
                ["timestamp": b.timestamp, "updates": b.updates.map(OracleJSON.object)] as [String: Any]
            }
        ]
        let script = SchemaValidation.repoRoot.appendingPathComponent("Tests/Oracle/reference_model.py").path
        let result = try await Python.withScratchDirectory { dir -> [[String: Any]] in
            let inURL = dir.appendingPathComponent("in.json"), outURL = dir.appendingPathComponent("out.json")
            try JSONSerialization.data(withJSONObject: request).write(to: inURL)
            var arguments = [script, inURL.path, outURL.path]
            if let rules {
                let rulesURL = dir.appendingPathComponent("rules.json")
                try Data(rules.utf8).write(to: rulesURL)
                arguments.append(rulesURL.path)
            }
            let run = try await Python.run(arguments, scratch: dir)
            guard run.status == 0,
                let result = try JSONSerialization.jsonObject(with: Data(contentsOf: outURL)) as? [[String: Any]]
            else { throw Failure(description: "reference model failed (\(run.status)): \(run.errors)") }
            return result
        }
        func messages(_ v: Any?) -> [(key: String, value: Any)] {
            ((v as? [[String: Any]]) ?? []).map { (($0["key"] as? String) ?? "?", $0["value"] ?? NSNull()) }
        }
        return result.map {
            Batch(
                outcomes: ($0["outcomes"] as? [String]) ?? [], summaries: messages($0["summaries"]),
                alerts: messages($0["alerts"]))
        }
    }
}

enum OracleJSON {
    static func outcome(_ o: ApplyOutcome) -> String {
        switch o {
        case .accepted: "accepted"
        case .duplicate: "duplicate"
        case .stale: "stale"
        case .rejected(let r): r.reason.rawValue
        }
    }

    static func object(_ u: ExecutionUpdate) -> [String: Any] {
        var o: [String: Any] = [
            "schema": "khuyencong.execution-update.v1", "report_id": u.reportID, "province": u.province,
            "fiscal_year": u.fiscalYear, "period_end": u.periodEnd.description, "source": u.source.rawValue,
            "status": u.status.rawValue, "plan_vnd": u.planVND, "executed_vnd": u.executedVND,
            "revision": u.revision, "reported_at": u.reportedAt,
        ]
        if let a = u.advancedVND { o["advanced_vnd"] = a }
        if let items = u.activities {
            o["activities"] = items.map { a -> [String: Any] in
                var item: [String: Any] = ["category": a.category.rawValue, "executed_vnd": a.executedVND]
                if let p = a.projects { item["projects"] = p }
                if let b = a.beneficiaries { item["beneficiaries"] = b }
                return item
            }
        }
        if let c = u.consulting { o["consulting"] = ["projects": c.projects, "revenue_vnd": c.revenueVND] }
        return o
    }

    /// Compares two emission sequences message by message, `computed_at` ignored.
    static func compare(_ what: String, swift: [EncodedMessage], model: [(key: String, value: Any)]) -> [String] {
        let swiftKeys = swift.map(\.key), modelKeys = model.map(\.key)
        if swiftKeys != modelKeys {
            return ["\(what) keys: swift \(swiftKeys) model \(modelKeys)"]
        }
        var out: [String] = []
        for (s, m) in zip(swift, model) {
            let marked = Data(ReferenceModelJSON.markingFractions(s.value))
            let sv = (try? JSONSerialization.jsonObject(with: marked)) ?? "unparsable"
            var diffs: [String] = []
            difference(sv, m.value, at: "", into: &diffs)
            if !diffs.isEmpty { out.append("\(what) \(s.key): " + diffs.prefix(4).joined(separator: "; ")) }
        }
        return out
    }

    /// Paths where two parsed values differ (`computed_at` ignored), with both sides.
    static func difference(_ a: Any, _ b: Any, at path: String, into out: inout [String]) {
        if let da = a as? [String: Any], let db = b as? [String: Any] {
            for k in Set(da.keys).union(db.keys).subtracting(["computed_at"]).sorted() {
                difference(da[k] ?? "<absent>", db[k] ?? "<absent>", at: path + "/" + k, into: &out)
            }
        } else if let aa = a as? [Any], let ab = b as? [Any], aa.count == ab.count {
            for (i, (x, y)) in zip(aa, ab).enumerated() { difference(x, y, at: path + "/\(i)", into: &out) }
        } else if canonical(a) != canonical(b) {
            out.append("\(path): swift \(canonical(a).prefix(300)) model \(canonical(b).prefix(300))")
        }
    }

    /// Sorted-member text of a parsed JSON value; numbers by kind (integer / floating) and value.
    static func canonical(_ v: Any) -> String {
        switch v {
        case let d as [String: Any]:
            "{"
                + d.keys.filter { $0 != "computed_at" }.sorted().map { "\($0):\(canonical(d[$0]!))" }.joined(
                    separator: ",") + "}"
        case let a as [Any]:
            "[" + a.map(canonical).joined(separator: ",") + "]"
        case let s as String:
            "\"\(s)\""
        case let n as NSNumber:
            ["d", "f"].contains(String(cString: n.objCType)) ? "\(n.doubleValue)" : "\(n.int64Value)"
        case is NSNull:
            "null"
        default:
            "?\(v)"
        }
    }
}
