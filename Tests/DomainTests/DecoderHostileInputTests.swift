import Foundation
import Testing
@testable import Domain
import TestSupport

/// Hostile inputs (issue 21): none costs much more per byte than a normal update, and none
/// puts more than a few hundred bytes of itself into the rejected record's `detail` and `field`.
@Suite(.offThePool) struct DecoderHostileInputTests {
    /// A hostile input may cost this many times a normal update's CPU time per byte. The worst
    /// measured is ×3.5 optimised (`bench domain`) and ×1.7 in the test build; before the fix,
    /// one decode of the deepest duplicate cost ×18,538 here (×6,780 optimised).
    static let allowedRatio = 8.0

    /// Each case against the normal update, measured in turn in the same run; each figure is
    /// the least of 5 rounds of about 10 ms of CPU time, so a busy machine slows both alike.
    @Test func everyHostileInputCostsASmallMultipleOfANormalUpdatePerByte() {
        let decoder = Fixtures.decoder
        var report: [String] = []
        for c in HostileInputs.cases {
            let normal = DecodeCost.nanosecondsPerByte(HostileInputs.normal, decoder: decoder, roundSeconds: 0.01)
            // One decode first: a quadratic case would take seconds per round.
            let once = DecodeCost.time(c, decoder, 1) * 1e9 / Double(c.payload.count)
            if once > normal.min()! * Self.allowedRatio * 50 {
                Issue.record("\(c.name): one decode costs \(Int(once)) ns/B, a normal update \(normal.min()!) ns/B")
                continue
            }
            let hostile = DecodeCost.nanosecondsPerByte(c, decoder: decoder, roundSeconds: 0.01)
            let ratio = hostile.min()! / normal.min()!
            report.append("\(c.name): ×\((ratio * 100).rounded() / 100)")
            #expect(
                ratio <= Self.allowedRatio,
                "\(c.name): \(hostile) ns/B against \(normal) ns/B for a normal update (×\(ratio))")
        }
        print("hostile input cost per byte against a normal update: " + report.joined(separator: ", "))
    }

    /// Whatever the input, a rejection quotes at most a few hundred bytes of it: the record is
    /// the payload, the key and a small constant.
    @Test func rejectedRecordsOfHostileInputsStaySmall() throws {
        var rejected = 0
        for c in HostileInputs.cases {
            guard case .failure(let r) = Fixtures.decoder.decode(payload: c.payload, key: c.key) else { continue }
            rejected += 1
            #expect(r.detail.utf8.count <= DecoderInvariants.maxDetailBytes, "\(c.name): \(r.detail.utf8.count) B")
            #expect((r.field?.utf8.count ?? 0) <= DecoderInvariants.maxFieldBytes, "\(c.name): field \(r.field ?? "")")
            let record = RejectedRecord(
                rejection: r, topic: "khuyencong.execution-updates.v1", partition: 0, offset: 0,
                key: c.key, payload: c.payload, rejectedAt: "2026-11-21T09:30:00Z"
            ).json()
            let carried = Base64.encode(c.payload).utf8.count + (c.key?.count ?? 0)
            #expect(record.count - carried <= 1_200, "\(c.name): \(record.count - carried) B besides payload and key")
            #expect(DecoderInvariants.rejectionViolations(r, key: c.key, payload: c.payload).isEmpty, "\(c.name)")
        }
        #expect(rejected >= 5)
    }

    @Test func deepDuplicatePointerIsCutAndSaysSo() throws {
        let c = try #require(HostileInputs.cases.first { $0.name.hasPrefix("deep arrays, duplicate") })
        let r = try #require(Fixtures.decoder.decode(payload: c.payload, key: c.key).failure)
        #expect(r.reason == .malformedJSON)
        // 60 bytes of "/0" tokens, then the cut mark.
        #expect(r.field == String(repeating: "/0", count: 30) + "…")
        #expect(
            r.detail == "Tên thành viên \"a\" xuất hiện nhiều lần trong cùng một đối tượng JSON; "
                + "mỗi tên chỉ được có một lần. Đường dẫn trong field đã được cắt còn "
                + "60 byte đầu.")
    }

    @Test func shallowDuplicatePointerIsWhole() {
        let r = Fixtures.rejection(#"{"a":[{"b":{}},{"c/d":{"x":1,"x":2}}]}"#)
        #expect(r?.field == "/a/1/c~1d/x")
        #expect(r?.detail.contains("cắt") == false)
    }

    @Test func longDuplicateNameIsCutInDetailAndField() throws {
        let name = String(repeating: "n", count: 30_000)
        let r = try #require(Fixtures.rejection(base.with("x", "{\"\(name)\":1,\"\(name)\":2}").json))
        #expect(r.field == "/x/" + String(repeating: "n", count: 57) + "…")
        #expect(
            r.detail == "Tên thành viên \"\(String(repeating: "n", count: 60))…\" "
                + "(đã cắt: chỉ hiện 60 trên 30000 byte) "
                + "xuất hiện nhiều lần trong cùng một đối tượng JSON; mỗi tên chỉ được có "
                + "một lần."
                + " Đường dẫn trong field đã được cắt còn 60 byte đầu.")
    }

    @Test func cutsFallOnCharacterBoundaries() throws {
        // "ệ" is 3 bytes: after "/x/" (3 bytes) 19 fit in 60, and a 20th would pass it.
        let name = String(repeating: "ệ", count: 30)
        let r = try #require(Fixtures.rejection(base.with("x", "{\"\(name)\":1,\"\(name)\":2}").json))
        #expect(r.field == "/x/" + String(repeating: "ệ", count: 19) + "…")
        let quoted = "\"\(String(repeating: "ệ", count: 20))…\""
        #expect(r.detail.hasPrefix("Tên thành viên \(quoted) (đã cắt: chỉ hiện 60 trên 90 byte)"))
        let shifted = "a" + name  // 1 + 90 bytes: 19 whole characters fit in 60
        let shown = RejectionText.shown(Array("\"\(shifted)\"".utf8))
        #expect(shown.hasPrefix("\"a\(String(repeating: "ệ", count: 19))…"))
    }

    @Test(arguments: [
        (Array("abc".utf8), 2, 2), (Array("ệệ".utf8), 4, 3), (Array("ệệ".utf8), 6, 6),
        (Array("😀".utf8), 3, 0), (Array("a😀".utf8), 5, 5), (Array("aé".utf8), 2, 1), ([], 5, 0),
    ])
    func characterBoundary(_ bytes: [UInt8], _ limit: Int, _ expected: Int) {
        #expect(RejectionText.characterBoundary(bytes, atMost: limit) == expected)
    }

    @Test func pointerCutNeverSplitsAnEscape() {
        for length in 55...62 {
            var b = JSONPointer.Builder(limit: 60)
            b.append(token: Array((String(repeating: "a", count: length - 3) + "~/~/").utf8))
            let text = b.string
            #expect(text.utf8.count <= 63)
            #expect(DecoderInvariants.isPointer(Array(text.utf8)), "\(text)")
            #expect(b.isCut)
        }
    }

    @Test func unescapedNamesMatchFoundation() throws {
        let json = #"{"\u0041\u00e9\u1ea1\ud83d\ude00\n\/":1}"#
        let name = try #require((try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Int])?.keys.first)
        let ours = Array(json.utf8).withUnsafeBytes { p -> String? in
            guard case .success(let tape) = JSONTape.parse(p) else { return nil }
            return tape.string(1)
        }
        #expect(ours == name)
    }
}

private let base = WireMessage()
