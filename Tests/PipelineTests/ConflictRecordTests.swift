import Domain
import Foundation
import Testing

@testable import Pipeline

/// A `conflicting_revision` rejection is completed at publish with the input's bytes as read back
/// from the input topic (`OriginReader`); when the topic no longer holds them it says so with a
/// null payload instead of failing the batch.
@Suite struct ConflictRecordTests {
    static let registries: Registries = {
        do { return try Registries.load() } catch { preconditionFailure("bundled registries: \(error)") }
    }()
    static let decoder = ExecutionUpdateDecoder(registries: registries)
    static let update = SyntheticUpdates.generate(count: 1, registries: registries, seed: 5)[0]
    static let facts: ReportFacts = {
        do { return try decoder.decodeFacts(payload: update.payload, key: update.key).get() } catch {
            preconditionFailure("a synthetic update is valid: \(error)")
        }
    }()
    static let origin = InputOrigin(
        topic: "khuyencong.execution-updates.v1", partition: 3, offset: 41, key: update.key,
        timestampMillis: 1_700_000_000_000)

    static func record(original: [UInt8]?) throws -> [String: Any] {
        let bytes = StageTwoRejection.conflictRecord(facts, origin: origin, original: original, decoder: decoder)
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func theInputsBytesAndReportIDWhenTheyAreReadBack() throws {
        let r = try Self.record(original: Self.update.payload)
        #expect(r["reason"] as? String == "conflicting_revision")
        #expect(r["field"] as? String == "/revision")
        #expect(r["payload_base64"] as? String == Data(Self.update.payload).base64EncodedString())
        let reportID = try #require(try Self.decoder.decode(payload: Self.update.payload, key: Self.update.key).get())
            .reportID
        #expect((r["detail"] as? String)?.contains(reportID) == true)
    }

    @Test func aNullPayloadWhenTheInputTopicNoLongerHoldsIt() throws {
        let r = try Self.record(original: nil)
        #expect(r["schema"] as? String == "khuyencong.rejected.v1")
        #expect(r["reason"] as? String == "conflicting_revision")
        #expect(r["field"] as? String == "/revision")
        #expect(r.keys.contains("payload_base64") && r["payload_base64"] is NSNull)
        #expect(r["topic"] as? String == Self.origin.topic)
        #expect(r["partition"] as? Int == 3 && r["offset"] as? Int == 41)
        #expect(r["key"] as? String == String(decoding: Self.update.key, as: UTF8.self))
        let detail = try #require(r["detail"] as? String)
        #expect(detail.contains("revision \(Self.facts.revision)") && detail.contains("tỉnh \(Self.facts.province)"))
    }
}
