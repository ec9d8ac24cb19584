import Foundation
import SchemaTestSupport
import Testing

@testable import Domain
import TestSupport

/// The one-pass decoder of plain messages (`PlainUpdateDecoder`) may only accept what the full
/// decoder accepts, with the same facts; and it must take the messages senders really write,
/// or it is dead weight.
@Suite(.offThePool) struct PlainUpdateDecoderTests {
    static let provinces = KnownProvinces(Fixtures.registries)

    /// The fast path's facts, or nil when it leaves the message to the full decoder.
    static func plain(_ payload: [UInt8], key: [UInt8]? = Array("49".utf8), topicUnit: String? = nil) -> ReportFacts? {
        payload.withUnsafeBytes { p in
            Self.withOptional(key) { k in
                PlainUpdateDecoder.facts(payload: p, key: k, topicUnit: topicUnit, provinces: provinces)
            }
        }
    }

    static func withOptional<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard let bytes else { return body(nil) }
        return bytes.withUnsafeBytes { body($0) }
    }

    /// Problems when the fast path accepts something the full decoder does not accept as the same facts.
    static func disagreement(_ payload: [UInt8], key: [UInt8]?, topicUnit: String? = nil) -> String? {
        guard let fast = plain(payload, key: key, topicUnit: topicUnit) else { return nil }
        switch Fixtures.decoder.decode(payload: payload, key: key, topicUnit: topicUnit) {
        case .success(let update):
            let full = ReportFacts(update)
            return fast == full ? nil : "facts differ: \(fast) against \(full)"
        case .failure(let r):
            return "fast path accepted what the full decoder rejects (\(r.reason)): "
                + String(decoding: payload, as: UTF8.self)
        }
    }

    @Test func takesEverySyntheticUpdateWithTheFullDecodersFacts() {
        let messages = SyntheticUpdates.generate(count: 3000, registries: Fixtures.registries, seed: 7)
        var taken = 0
        for m in messages {
            #expect(Self.disagreement(m.payload, key: m.key) == nil)
            if Self.plain(m.payload, key: m.key) != nil { taken += 1 }
        }
        #expect(taken == messages.count, "every canonical message takes the fast path")
    }

    @Test func takesTheFixtureAndSpacedJSON() throws {
        let fixture = WireMessage()
        #expect(Self.plain(fixture.bytes) != nil)
        #expect(Self.disagreement(fixture.bytes, key: Array("49".utf8)) == nil)
        let spaced = fixture.json.replacingOccurrences(of: ",\"", with: " ,\n\t\"")
            .replacingOccurrences(of: "\":", with: "\" : ")
        #expect(Self.plain(Array(("  " + spaced + " \r\n").utf8)) == Self.plain(fixture.bytes))
        let reordered = WireMessage(members: fixture.members.reversed())
        #expect(Self.plain(reordered.bytes) == Self.plain(fixture.bytes))
        #expect(Self.plain(fixture.without("activities", "consulting", "advanced_vnd").bytes) != nil)
        #expect(Self.plain(fixture.with("activities", "[]").with("executed_vnd", "0").bytes) != nil)
    }

    /// Valid messages it leaves to the full decoder, and invalid ones it must not take.
    @Test func leavesEverythingElseToTheFullDecoder() {
        let m = WireMessage()
        let cases: [(String, [UInt8], String?)] = [
            ("unknown member", m.with("note", #""x""#).bytes, "49"),
            ("duplicate member", Array((String(m.json.dropLast()) + #","revision":4}"#).utf8), "49"),
            ("escaped string", m.with("report_id", #""QNA\u002D1""#).bytes, "49"),
            ("non-ASCII string", m.with("report_id", #""Quảng""#).bytes, "49"),
            ("negative zero", m.with("advanced_vnd", "-0").bytes, "49"),
            ("fraction", m.with("plan_vnd", "1.0").bytes, "49"),
            ("exponent", m.with("plan_vnd", "1e3").bytes, "49"),
            ("leading zero", m.with("revision", "03").bytes, "49"),
            ("amount over 10^15", m.with("plan_vnd", "1000000000000001").bytes, "49"),
            ("revision 0", m.with("revision", "0").bytes, "49"),
            ("null optional", m.with("advanced_vnd", "null").bytes, "49"),
            ("missing required", m.without("status").bytes, "49"),
            ("activity without category", m.with("activities", #"[{"executed_vnd":1211000000}]"#).bytes, "49"),
            ("activities off the sum", m.with("executed_vnd", "1211000001").bytes, "49"),
            ("consulting incomplete", m.with("consulting", #"{"projects":1}"#).bytes, "49"),
            ("month 13", m.with("period_end", #""2022-13""#).bytes, "49"),
            ("year mismatch", m.with("period_end", #""2021-07""#).bytes, "49"),
            ("fiscal year 1999", m.with("fiscal_year", "1999").with("period_end", #""1999-07""#).bytes, "49"),
            ("bad date", m.with("reported_at", #""2022-02-30T09:30:00Z""#).bytes, "49"),
            ("wrong schema", m.with("schema", #""khuyencong.execution-update.v2""#).bytes, "49"),
            ("key differs", m.bytes, "48"),
            ("key absent", m.bytes, nil),
            ("unknown province", m.with("province", #""99""#).bytes, "99"),
            ("trailing data", m.bytes + Array(" {}".utf8), "49"),
            ("byte-order mark", [0xEF, 0xBB, 0xBF] + m.bytes, "49"),
            ("not an object", Array("[1]".utf8), "49"),
            ("truncated", Array(m.bytes.dropLast()), "49"),
            ("nine activities", Self.nineActivities(m).bytes, "49"),
        ]
        for (name, payload, key) in cases {
            #expect(Self.plain(payload, key: key.map { Array($0.utf8) }) == nil, "\(name)")
        }
        #expect(Self.plain(m.bytes, topicUnit: "48") == nil, "report of another unit on a per-province topic")
        #expect(Self.plain(m.bytes, topicUnit: "49") != nil)
    }

    static func nineActivities(_ m: WireMessage) -> WireMessage {
        let item = #"{"category":"training","executed_vnd":1}"#
        return m.with("activities", "[" + Array(repeating: item, count: 9).joined(separator: ",") + "]")
            .with("executed_vnd", "9")
    }

    /// Every one-byte deletion, replacement and insertion of a few messages: whatever the fast
    /// path accepts, the full decoder accepts as the same facts.
    @Test func acceptsNoMutationTheFullDecoderWouldNot() {
        let bytes: [UInt8] = Array(#" "\,:{}[]0159-.eEtx"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3]
        var payloads = [WireMessage().bytes, WireMessage().without("activities", "consulting").bytes]
        payloads += SyntheticUpdates.generate(count: 2, registries: Fixtures.registries, seed: 3).map(\.payload)
        var problems: [String] = []
        var accepted = 0
        for payload in payloads {
            let key = Self.plain(payload).map { Array($0.province.utf8) } ?? Array("49".utf8)
            var variants: [[UInt8]] = []
            for at in payload.indices {
                var deleted = payload
                deleted.remove(at: at)
                variants.append(deleted)
                for b in bytes where b != payload[at] {
                    var replaced = payload
                    replaced[at] = b
                    variants.append(replaced)
                    var inserted = payload
                    inserted.insert(b, at: at)
                    variants.append(inserted)
                }
            }
            for v in variants {
                if let problem = Self.disagreement(v, key: key) { problems.append(problem) }
                if Self.plain(v, key: key) != nil { accepted += 1 }
            }
        }
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(accepted > 1000, "mutations that keep a message valid are still taken")
    }

    /// The schema examples: the valid ones give the same facts either way.
    @Test func schemaExamplesAgree() throws {
        let folder = SchemaValidation.repoRoot.appendingPathComponent("Schemas/examples/execution-update")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names.count >= 3)
        for name in names {
            let payload = Array(try Data(contentsOf: folder.appendingPathComponent(name)))
            let key = payload.withUnsafeBytes { p -> [UInt8]? in
                guard case .success(let tape) = JSONTape.parse(p) else { return nil }
                var province: [UInt8]?
                tape.forEachChild(0) { k, v in
                    if tape.stringEquals(k, Array("province".utf8)) { province = tape.stringBytes(v) }
                }
                return province
            }
            #expect(Self.plain(payload, key: key) != nil || name.contains("unknown"), "\(name) takes the fast path")
            #expect(Self.disagreement(payload, key: key) == nil, "\(name)")
        }
    }
}
