import Foundation
import Testing
@testable import Domain
import TestSupport

@Suite(.offThePool) struct StrictJSONTests {
    func integer(_ text: String) -> Int64? {
        Array(text.utf8).withUnsafeBytes { p -> Int64? in
            guard case .success(let tape) = JSONTape.parse(p), tape.nodes[0].kind == .number, tape.nodes[0].flag else {
                return nil
            }
            return tape.integerValue(0)
        }
    }

    @Test(arguments: [
        ("0", Int64(0)), ("-0", 0), ("999999999999999999", 999_999_999_999_999_999),
        ("-999999999999999999", -999_999_999_999_999_999),
        ("9223372036854775807", .max), ("9223372036854775808", .max), ("-9223372036854775808", .min),
        ("-9223372036854775809", .min), (String(repeating: "9", count: 500), .max),
        ("1000000000000000", 1_000_000_000_000_000),
    ])
    func integersSaturate(_ text: String, _ expected: Int64) {
        #expect(integer(text) == expected)
    }

    @Test(arguments: ["1.0", "1e3", "1E+3", "-1.5e-2"])
    func fractionsAndExponentsAreNotIntegers(_ text: String) {
        #expect(integer(text) == nil)
    }

    @Test(arguments: [
        "01", "-", "1.", ".5", "+1", "1e", "--1", "0x10", "Infinity", "NaN", "tru", "nul", "'a'", "{a:1}", "[1,]",
        "{\"a\"1}", "\"\\x\"", "\"\\u12\"",
    ])
    func syntaxErrors(_ text: String) {
        let ok = Array(text.utf8).withUnsafeBytes { p in if case .success = JSONTape.parse(p) { true } else { false } }
        #expect(!ok)
    }

    @Test func longStringsWithEscapesAndUnicodeScanCorrectly() throws {
        // Exercises the 8-byte scan on every alignment with special bytes at each position.
        for pad in 0..<17 {
            let s =
                String(repeating: "a", count: pad) + "Cả nước – \\\"x\\\\y\\u00e9\\ud83d\\ude00"
                + String(repeating: "b", count: pad)
            let json = "{\"k\":\"\(s)\"}"
            let value = Array(json.utf8).withUnsafeBytes { p -> String? in
                guard case .success(let tape) = JSONTape.parse(p) else { return nil }
                return tape.string(2)
            }
            let foundation = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String]
            #expect(value == foundation?["k"])
        }
    }

    /// `bytes` with a few bytes replaced, inserted or removed, from the bytes JSON syntax turns on.
    static func mutated(_ bytes: [UInt8], edits: ClosedRange<UInt64>, _ rng: inout SplitMix64) -> [UInt8] {
        let specials = Array("{}[]\",:\\-0123456789.eEtfnu ".utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xFF]
        var bytes = bytes
        for _ in 0..<Int(rng.next(in: edits)) {
            let at = Int(rng.next(in: 0...UInt64(bytes.count - 1)))
            let b = specials[Int(rng.next(in: 0...UInt64(specials.count - 1)))]
            switch rng.next(in: 0...2) {
            case 0: bytes[at] = b
            case 1: bytes.insert(b, at: at)
            default: bytes.remove(at: at)
            }
        }
        return bytes
    }

    /// Random mutations of valid messages never crash the decoder, and whatever the strict
    /// parser accepts, Foundation's parser accepts too (except huge exponents such as
    /// `1e979000`: valid JSON that Foundation refuses because it overflows a Double).
    @Test func mutationsNeverCrashAndStayStricterThanFoundation() throws {
        var rng = SplitMix64(seed: 2026)
        let messages = SyntheticUpdates.generate(count: 50, registries: Fixtures.registries, seed: 3)
        var accepted = 0
        for n in 0..<4_000 {
            let bytes = Self.mutated(messages[n % messages.count].payload, edits: 1...3, &rng)
            let strict = bytes.withUnsafeBytes { p in if case .success = JSONTape.parse(p) { true } else { false } }
            _ = Fixtures.decoder.decode(payload: bytes, key: messages[n % messages.count].key)
            let hasExponent = zip(bytes, bytes.dropFirst()).contains {
                Forms.isDigit($0) && $1 | 0x20 == UInt8(ascii: "e")
            }
            if strict && !hasExponent {
                accepted += 1
                #expect(
                    (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil,
                    "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
        #expect(accepted > 100)
    }

    /// What a parse says: the error, or the top-level value's members (name, kind, byte range).
    func outcome(_ bytes: [UInt8], membersOnly: Bool) -> String {
        bytes.withUnsafeBytes { p in
            switch JSONTape.parse(p, membersOnly: membersOnly) {
            case .failure(let error): return "\(error)"
            case .success(let tape) where tape.nodes[0].kind != .object: return "\(tape.nodes[0].kind)"
            case .success(let tape):
                var members: [String] = []
                tape.forEachChild(0) { k, v in
                    let n = tape.nodes[v]
                    members.append("\(tape.string(k)) \(n.kind) \(n.start)..<\(n.end) \(n.flag) \(n.value)")
                }
                return members.joined(separator: "; ")
            }
        }
    }

    func isNestedDuplicate(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { p in
            guard case .failure(let e) = JSONTape.parse(p), case .duplicateMember(let pointer, _, _) = e.problem
            else { return false }
            return pointer.dropFirst().contains("/")
        }
    }

    /// The summary header's mode: the same verdict, error and top-level members as a whole parse,
    /// on mutated summaries (nested objects and arrays), except that a duplicate name below the
    /// top level is accepted.
    @Test func membersOnlyJudgesAsTheWholeParseButForNestedDuplicates() throws {
        let aggregator = Aggregator(
            configuration: AggregatorConfiguration(registries: Fixtures.registries, rules: try AlertRules.bundled()))
        for u in SyntheticUpdates.updates(count: 100, registries: Fixtures.registries, seed: 11) {
            _ = aggregator.apply(u)
        }
        let summaries = aggregator.endBatch(at: "2026-01-01T00:00:00Z").summaries.map(\.value)
        try #require(!summaries.isEmpty)
        var rng = SplitMix64(seed: 2027)
        var accepted = 0
        for n in 0..<400 {
            let bytes = Self.mutated(summaries[n % summaries.count], edits: 0...2, &rng)
            let whole = outcome(bytes, membersOnly: false), members = outcome(bytes, membersOnly: true)
            if isNestedDuplicate(bytes) {
                #expect(!members.contains("SyntaxError"), "\(String(decoding: bytes, as: UTF8.self))")
                continue
            }
            if !whole.contains("SyntaxError") { accepted += 1 }
            #expect(whole == members, "\(String(decoding: bytes, as: UTF8.self))")
        }
        #expect(accepted > 100)
        // Built ones too, so that the exception is exercised.
        let nested = Array(#"{"a":{"x":1,"x":2},"b":[{"y":[],"y":{}}]}"#.utf8)
        #expect(isNestedDuplicate(nested))
        #expect(outcome(nested, membersOnly: true) == "a object 5..<18 false 0; b array 23..<40 false 0")
        #expect(outcome(Array(#"{"a":1,"a":{}}"#.utf8), membersOnly: true).contains("duplicateMember"))
    }

    @Test(arguments: [
        "01", "-", "1.", ".5", "+1", "1e", "--1", "0x10", "Infinity", "NaN", "tru", "nul", "'a'", "{a:1}", "[1,]",
        "{\"a\"1}", "\"\\x\"", "\"\\u12\"", "[1 2]", "{\"a\":1,}", "{\"a\":1]", "[1}", "[", "{\"a\":[", "[[]",
    ])
    func membersOnlyRejectsNestedSyntaxErrorsAtTheSameByte(_ text: String) {
        let nested = Array("{\"k\":[true,{\"v\":\(text)}]}".utf8)
        #expect(outcome(nested, membersOnly: true) == outcome(nested, membersOnly: false))
        #expect(outcome(nested, membersOnly: true).contains("SyntaxError"))
    }
}
