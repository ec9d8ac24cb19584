import Foundation
import SchemaTestSupport
import Testing
@testable import Domain

/// The committed examples and the messages the code emits conform to `Schemas/`, and the
/// decoder agrees with every example. Set KHUYENCONG_WRITE_EXAMPLES=1 to regenerate
/// `Schemas/examples/rejected/` from the code.
@Suite struct SchemaConformanceTests {
    static let examples = SchemaValidation.repoRoot.appendingPathComponent("Schemas/examples")

    struct Index {
        var valid: [(file: String, key: String)] = []
        /// `held`: an update accepted first (conflicting_revision needs one).
        var invalid: [(file: String, key: String, reason: String, field: String?, schemaDetects: Bool, held: String?)] =
            []
        var rejected:
            [(
                file: String, from: String?, key: String?, topic: String, partition: Int32, offset: Int64,
                rejectedAt: String
            )] = []
    }

    static func loadIndex() throws -> Index {
        let data = try Data(contentsOf: examples.appendingPathComponent("index.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var index = Index()
        for e in root["execution-update"] as? [[String: Any]] ?? [] {
            index.valid.append((try #require(e["file"] as? String), try #require(e["key"] as? String)))
        }
        for e in root["invalid"] as? [[String: Any]] ?? [] {
            index.invalid.append(
                (
                    try #require(e["file"] as? String), try #require(e["key"] as? String),
                    try #require(e["reason"] as? String), e["field"] as? String,
                    try #require(e["schema_detects"] as? Bool), e["held"] as? String
                ))
        }
        for e in root["rejected"] as? [[String: Any]] ?? [] {
            index.rejected.append(
                (
                    try #require(e["file"] as? String), e["from"] as? String, e["key"] as? String,
                    try #require(e["topic"] as? String), Int32(try #require(e["partition"] as? Int)),
                    Int64(try #require(e["offset"] as? Int)), try #require(e["rejected_at"] as? String)
                ))
        }
        return index
    }

    static func bytes(_ file: String) throws -> [UInt8] {
        Array(try Data(contentsOf: examples.appendingPathComponent(file)))
    }

    @Test func validExamplesDecodeAndConform() async throws {
        let index = try Self.loadIndex()
        #expect(index.valid.count >= 4)
        var documents: [(json: [UInt8], schemaFile: String)] = []
        for (file, key) in index.valid {
            let payload = try Self.bytes(file)
            let result = Fixtures.decoder.decode(payload: payload, key: Array(key.utf8))
            let update = try #require(result.success, "\(file): \(String(describing: result.failure))")
            documents.append((payload, "execution-update.v1.schema.json"))
            documents.append((update.canonicalJSON(), "execution-update.v1.schema.json"))
        }
        for m in SyntheticUpdates.generate(count: 300, registries: Fixtures.registries, seed: 11) {
            documents.append((m.payload, "execution-update.v1.schema.json"))
        }
        let violations = try await SchemaValidation.violations(documents)
        for (doc, v) in zip(documents, violations) {
            #expect(v.isEmpty, "\(String(decoding: doc.json.prefix(200), as: UTF8.self)): \(v)")
        }
    }

    @Test func invalidExamplesAreRejectedForTheirReason() async throws {
        let index = try Self.loadIndex()
        let reasons = Set(index.invalid.map(\.reason))
        #expect(reasons == Set(RejectionReason.allCases.map(\.rawValue)), "one example per rejection reason")
        var documents: [(json: [UInt8], schemaFile: String)] = []
        for e in index.invalid {
            let payload = try Self.bytes(e.file)
            #expect(e.file.hasPrefix("invalid/\(e.reason)"), "examples are named after their reason")
            let r: Rejection?
            if let held = e.held {
                // Decoded fine; the aggregator rejects it against the update it already holds.
                let aggregator = Aggregator(configuration: try AggregatorConfiguration.bundled())
                let first = try #require(
                    Fixtures.decoder.decode(payload: try Self.bytes(held), key: Array(e.key.utf8)).success)
                #expect(aggregator.apply(first) == .accepted)
                let update = try #require(
                    Fixtures.decoder.decode(payload: payload, key: Array(e.key.utf8)).success, "\(e.file)")
                guard case .rejected(let rejection) = aggregator.apply(update) else {
                    Issue.record("\(e.file) was not rejected"); continue
                }
                r = rejection
            } else {
                r = Fixtures.decoder.decode(payload: payload, key: Array(e.key.utf8)).failure
            }
            #expect(r?.reason.rawValue == e.reason, "\(e.file)")
            #expect(r?.field == e.field, "\(e.file)")
            documents.append((payload, "execution-update.v1.schema.json"))
        }
        let violations = try await SchemaValidation.violations(documents)
        for (e, v) in zip(index.invalid, violations) {
            #expect(v.isEmpty == !e.schemaDetects, "\(e.file): schema_detects=\(e.schemaDetects), violations \(v)")
        }
    }

    @Test func tooLargeIsRecordedTruncated() async throws {
        let payload = try Self.bytes("invalid/too_large.json")
        #expect(payload.count > ExecutionUpdateDecoder.maxPayloadBytes)
        let r = try #require(Fixtures.decoder.decode(payload: payload, key: Array("49".utf8)).failure)
        let record = RejectedRecord(
            rejection: r, topic: "khuyencong.execution-updates.v1", partition: 1, offset: 9,
            key: Array("49".utf8), payload: payload, rejectedAt: "2026-11-21T09:30:00Z")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(record.json())) as? [String: Any])
        #expect(json["payload_truncated"] as? Bool == true)
        #expect(
            Data(base64Encoded: json["payload_base64"] as? String ?? "")?.count
                == ExecutionUpdateDecoder.maxPayloadBytes)
        try await validate(record.json(), against: "rejected.v1.schema.json")
    }

    @Test func rejectedExamplesMatchTheCodeAndConform() async throws {
        let index = try Self.loadIndex()
        let write = ProcessInfo.processInfo.environment["KHUYENCONG_WRITE_EXAMPLES"] == "1"
        var documents: [(json: [UInt8], schemaFile: String)] = []
        for e in index.rejected {
            let source = e.from.flatMap { from in index.invalid.first { $0.file == from } }
            let key = source?.key ?? e.key
            let payload = try e.from.map(Self.bytes)
            let rejection = try #require(
                Fixtures.decoder.decode(payload: payload, key: key.map { Array($0.utf8) }).failure)
            let json = RejectedRecord(
                rejection: rejection, topic: e.topic, partition: e.partition, offset: e.offset,
                key: key.map { Array($0.utf8) }, payload: payload, rejectedAt: e.rejectedAt
            ).json()
            let url = Self.examples.appendingPathComponent(e.file)
            if write { try Data(json).write(to: url) }
            #expect(try Self.bytes(e.file) == json, "\(e.file) differs from the code's output")
            documents.append((json, "rejected.v1.schema.json"))
        }
        for v in try await SchemaValidation.violations(documents) { #expect(v.isEmpty, "\(v)") }
    }

    @Test func everyRejectionTheDecoderEmitsConforms() async throws {
        let records = rejectCases.compactMap { c -> [UInt8]? in
            let payload = Array(c.json.utf8)
            guard let r = Fixtures.decoder.decode(payload: payload, key: c.key.map { Array($0.utf8) }).failure else {
                return nil
            }
            return RejectedRecord(
                rejection: r, topic: "khuyencong.execution-updates.v1", partition: 2, offset: 77,
                key: c.key.map { Array($0.utf8) }, payload: payload, rejectedAt: "2026-11-21T09:30:00.125Z"
            ).json()
        }
        #expect(records.count == rejectCases.count)
        // conflicting_revision as the aggregation sends it: the example's update, held first.
        let example = try #require(try Self.loadIndex().invalid.first { $0.held != nil })
        let aggregator = Aggregator(configuration: try AggregatorConfiguration.bundled())
        let key = Array(example.key.utf8)
        let held = try #require(Fixtures.decoder.decode(payload: try Self.bytes(example.held!), key: key).success)
        _ = aggregator.apply(held)
        guard
            case .rejected(let conflict) = aggregator.apply(
                try #require(Fixtures.decoder.decode(payload: try Self.bytes(example.file), key: key).success))
        else { Issue.record("\(example.file) was not rejected"); return }
        #expect(conflict.reason == .conflictingRevision)
        let conflicting = RejectedRecord(
            rejection: conflict, topic: "t", partition: 0, offset: 0, key: [0xFF],
            payload: nil, rejectedAt: "2026-11-21T09:30:00Z"
        ).json()
        let documents = (records + [conflicting]).map { (json: $0, schemaFile: "rejected.v1.schema.json") }
        for (doc, v) in zip(documents, try await SchemaValidation.violations(documents)) {
            #expect(v.isEmpty, "\(String(decoding: doc.json, as: UTF8.self)): \(v)")
        }
    }

    @Test func theValidatorCatchesViolations() async throws {
        let bad: [(json: [UInt8], schemaFile: String)] = [
            (Array(#"{"schema":"khuyencong.rejected.v1"}"#.utf8), "rejected.v1.schema.json"),
            (Array("{\"a\":".utf8), "rejected.v1.schema.json"),
            (
                Array(try Self.bytes("execution-update/full.json")).map {
                    $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0
                },
                "execution-update.v1.schema.json"
            ),  // "…09:30:00 07:00" is no date-time
        ]
        let v = try await SchemaValidation.violations(bad)
        #expect(v.allSatisfy { !$0.isEmpty })
        #expect(v[1].first?.hasPrefix("not JSON") == true)
        await #expect(throws: SchemaValidation.Failure.self) {
            try await validate(bad[0].json, against: "rejected.v1.schema.json")
        }
    }
}
