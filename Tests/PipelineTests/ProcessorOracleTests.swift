import Domain
import Foundation
@testable import Pipeline
import SchemaTestSupport
import Testing

/// The processor against the independent reference model (Tests/Oracle/reference_model.py,
/// brute force, written from the contract alone): the same updates, batch by batch, give the
/// same summaries and alerts in the same order, across restarts of stage 2 from its changelog.
@Suite struct ProcessorOracleTests {
    @Test(arguments: [7, 8] as [UInt64])
    func processorMatchesReferenceModel(seed: UInt64) async throws {
        let registries = try Shared.registries.get()
        var random = SplitMix64(seed: seed)
        // Synthetic reports walk the months; every fifth one is sent twice (a duplicate).
        var messages: [WireMessageBytes] = []
        for m in SyntheticUpdates.generate(count: 400, registries: registries, seed: seed) {
            messages.append(m)
            if random.next(in: 0...4) == 0 { messages.append(m) }
        }
        var batches: [(timestamp: Int64, messages: [WireMessageBytes])] = []
        var start = 0, time: Int64 = 1_767_225_600_000  // 2026-01-01
        while start < messages.count {
            let count = Int(random.next(in: 1...40))
            batches.append((time, Array(messages[start..<min(start + count, messages.count)])))
            start += count
            time += 3_600_000
        }
        let expected = try await referenceModel(batches)
        #expect(expected.count == batches.count)

        let driver = try TopologyDriver(
            settings: WorkerSettings(
                brokers: "", groupID: "g", inputTopic: "in", summariesTopic: "s", alertsTopic: "a", rejectedTopic: "r",
                registries: registries, rules: try Shared.rules.get()))
        var mismatches: [String] = []
        var compared = (summaries: 0, alerts: 0)
        // Batch i's records are appended by pipe i and aggregated by pipe i + 1.
        await driver.pipe(batches[0].messages.map(Self.input), logTimestampMillis: batches[0].timestamp)
        for i in batches.indices where i < expected.count {
            let next: (timestamp: Int64, messages: [WireMessageBytes])
            next = i + 1 < batches.count ? batches[i + 1] : (0, [])
            let out = await driver.pipe(next.messages.map(Self.input), logTimestampMillis: next.timestamp).aggregated
            if i % 7 == 6 { try driver.restart() }
            #expect(out.segments == 1)
            compared.summaries += expected[i].summaries.count
            compared.alerts += expected[i].alerts.count
            mismatches += Self.compare("batch \(i) summaries", out.summaries, expected[i].summaries)
            mismatches += Self.compare("batch \(i) alerts", out.alerts, expected[i].alerts)
            if mismatches.count > 6 { break }
        }
        print(
            "processor oracle seed \(seed): \(batches.count) batches, \(compared.summaries) summaries, "
                + "\(compared.alerts) alerts")
        #expect(compared.summaries > 50 && compared.alerts > 50, "the stream exercises summaries and alerts")
        #expect(mismatches.isEmpty, Comment(rawValue: "seed \(seed):\n" + mismatches.prefix(6).joined(separator: "\n")))
    }

    static func input(_ m: WireMessageBytes) -> (key: String?, value: [UInt8]?) {
        (String(decoding: m.key, as: UTF8.self), m.payload)
    }

    /// Per batch, the model's summaries and alerts (key, JSON value), in its order.
    func referenceModel(_ batches: [(timestamp: Int64, messages: [WireMessageBytes])]) async throws
        -> [(summaries: [(String, Any)], alerts: [(String, Any)])]
    {
        let request: [String: Any] = [
            "batches": try batches.map { b in
                [
                    "timestamp": RejectedRecord.timestamp(epochMilliseconds: b.timestamp),
                    "updates": try b.messages.map { try JSONSerialization.jsonObject(with: Data($0.payload)) },
                ] as [String: Any]
            }
        ]
        let script = SchemaValidation.repoRoot.appendingPathComponent("Tests/Oracle/reference_model.py").path
        let result = try await Python.withScratchDirectory { dir -> [[String: Any]] in
            let inURL = dir.appendingPathComponent("in.json"), outURL = dir.appendingPathComponent("out.json")
            try JSONSerialization.data(withJSONObject: request).write(to: inURL)
            let run = try await Python.run([script, inURL.path, outURL.path], scratch: dir)
            guard run.status == 0,
                let result = try JSONSerialization.jsonObject(with: Data(contentsOf: outURL)) as? [[String: Any]]
            else { throw ReferenceModelFailed(status: run.status, errors: run.errors) }
            return result
        }
        func messages(_ v: Any?) -> [(String, Any)] {
            ((v as? [[String: Any]]) ?? []).map { (($0["key"] as? String) ?? "?", $0["value"] ?? NSNull()) }
        }
        return result.map { (messages($0["summaries"]), messages($0["alerts"])) }
    }

    /// Message by message: the same keys in the same order, and equal JSON values (`computed_at` aside).
    static func compare(_ what: String, _ swift: [EncodedMessage], _ model: [(String, Any)]) -> [String] {
        guard swift.map(\.key) == model.map(\.0) else {
            return ["\(what): keys \(swift.map(\.key)) vs model \(model.map(\.0))"]
        }
        var out: [String] = []
        for (s, m) in zip(swift, model) {
            let marked = try? JSONSerialization.jsonObject(with: Data(ReferenceModelJSON.markingFractions(s.value)))
            guard var a = marked as? [String: Any], var b = m.1 as? [String: Any] else {
                out.append("\(what) \(s.key): not an object")
                continue
            }
            a["computed_at"] = nil
            b["computed_at"] = nil
            if (a as NSDictionary) != (b as NSDictionary) { out.append("\(what) \(s.key): \(a) vs model \(b)") }
        }
        return out
    }
}

/// The Python reference model exited with an error or wrote no result.
struct ReferenceModelFailed: Error, CustomStringConvertible {
    var status: Int32
    var errors: String
    var description: String { "reference model failed (\(status)): \(errors)" }
}
