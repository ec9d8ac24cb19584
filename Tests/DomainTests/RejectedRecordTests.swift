import Foundation
import Testing
@testable import Domain

@Suite struct RejectedRecordTests {
    func record(_ rejection: Rejection, key: [UInt8]?, payload: [UInt8]?) -> RejectedRecord {
        RejectedRecord(
            rejection: rejection, topic: "khuyencong.execution-updates.v1", partition: 3, offset: 42,
            key: key, payload: payload, rejectedAt: "2026-11-21T19:57:03.042Z")
    }

    @Test func encodesEveryMemberInOrder() {
        let r = record(
            Rejection(reason: .amountOutOfRange, field: "/executed_vnd", detail: "Trường \"x\" sai."),
            key: Array("49".utf8), payload: Array("{\"a\":1}".utf8))
        #expect(
            String(decoding: r.json(), as: UTF8.self) == #"""
                {"schema":"khuyencong.rejected.v1","reason":"amount_out_of_range","field":"/executed_vnd",\#
                "detail":"Trường \"x\" sai.","topic":"khuyencong.execution-updates.v1","partition":3,"offset":42,\#
                "key":"49","payload_base64":"eyJhIjoxfQ==","payload_truncated":false,\#
                "rejected_at":"2026-11-21T19:57:03.042Z"}
                """#)
    }

    @Test func tombstoneAndAbsentKeyAreNull() {
        let r = record(Rejection(reason: .malformedJSON, field: nil, detail: "d"), key: nil, payload: nil)
        let text = String(decoding: r.json(), as: UTF8.self)
        #expect(
            text.contains(#""field":null"#) && text.contains(#""key":null"#) && text.contains(#""payload_base64":null"#)
        )
    }

    @Test func tooLargeCarriesTheFirst65536Bytes() throws {
        let payload = (0..<70_000).map { UInt8($0 % 251) }
        let r = record(Rejection(reason: .tooLarge, field: nil, detail: "d"), key: Array("49".utf8), payload: payload)
        #expect(r.payloadTruncated)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.json())) as? [String: Any])
        let base64 = try #require(object["payload_base64"] as? String)
        let carried = try #require(Data(base64Encoded: base64))
        #expect(Array(carried) == Array(payload.prefix(65_536)))
        #expect(object["payload_truncated"] as? Bool == true)
    }

    @Test(arguments: [0, 1, 2, 3, 4, 5, 100])
    func base64MatchesFoundation(_ n: Int) {
        let bytes = (0..<n).map { UInt8(($0 * 37) % 256) }
        #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString())
    }

    @Test func invalidUTF8KeyKeepsExactBytes() throws {
        let r = record(
            Rejection(reason: .keyMismatch, field: "/province", detail: "d"), key: [0x34, 0xFF], payload: [])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.json())) as? [String: Any])
        #expect(object["key"] as? String == "4\u{FFFD}")
        #expect(object["key_base64"] as? String == Data([0x34, 0xFF]).base64EncodedString())
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"), (Int64(1_763_755_023_042), "2025-11-21T19:57:03.042Z"),
        (Int64(951_782_400_000), "2000-02-29T00:00:00.000Z"), (Int64(-1), "1969-12-31T23:59:59.999Z"),
    ])
    func timestamps(_ ms: Int64, _ expected: String) {
        #expect(RejectedRecord.timestamp(epochMilliseconds: ms) == expected)
    }
}
