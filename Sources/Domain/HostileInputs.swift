/// The most expensive inputs we know how to build for the decoder, each at most 65,536 bytes
/// (larger ones are `too_large` before any parsing), next to a normal update. `bench domain`
/// prints their decode cost per byte, and a test keeps each within a small multiple of the
/// normal update's.
public enum HostileInputs {
    public struct Case: Sendable {
        public var name: String
        public var payload: [UInt8]
        public var key: [UInt8]? = Array("49".utf8)
    }

    static let limit = ExecutionUpdateDecoder.maxPayloadBytes

    /// A typical accepted update: two activities, consulting, an advance (about 450 bytes).
    public static let normal: Case = Case(name: "normal update", payload: normalUpdate.canonicalJSON())

    static let normalUpdate = ExecutionUpdate(
        reportID: "QNA-2022-07-KCQG.r3", province: "49", fiscalYear: 2022, periodEnd: YearMonth(year: 2022, month: 7),
        source: .kcqg, status: .actual, planVND: 10_000_000_000, executedVND: 1_211_000_000, revision: 3,
        reportedAt: "2022-08-05T09:30:00+07:00", advancedVND: 500_000_000,
        activities: [
            Activity(category: .training, executedVND: 1_000_000_000, projects: 2, beneficiaries: 120),
            Activity(category: .tradePromotion, executedVND: 211_000_000, projects: nil, beneficiaries: nil),
        ],
        consulting: Consulting(projects: 1, revenueVND: 0))

    static let withoutAdvance = {
        var u = normalUpdate
        u.advancedVND = nil
        return u
    }()

    /// The normal update with one more member `"x":` + `value`, where `value(room)` fills the
    /// `room` bytes left up to the size limit.
    static func withMember(_ name: String, base: [UInt8] = normal.payload, _ value: (Int) -> [UInt8]) -> [UInt8] {
        var bytes = base
        bytes.removeLast()  // "}"
        bytes += Array(",\"\(name)\":".utf8)
        bytes += value(limit - bytes.count - 1)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    static func repeated(_ unit: String, _ count: Int) -> [UInt8] {
        Array(String(repeating: unit, count: max(0, count)).utf8)
    }

    /// `open` repeated as often as fits in front of `tail` and the matching `close`s.
    static func nested(_ open: String, _ close: String, tail: String, room: Int) -> [UInt8] {
        let n = (room - tail.utf8.count) / (open.utf8.count + close.utf8.count)
        return repeated(open, n) + Array(tail.utf8) + repeated(close, n)
    }

    public static let cases: [Case] = [
        // Issue 21: 65,523 '[' and a duplicate member at the bottom (the pointer walked every level).
        Case(
            name: "deep arrays, duplicate at the bottom",
            payload: repeated("[", limit - 13) + Array(#"{"a":1,"a":1}"#.utf8)),
        Case(
            name: "deep objects, duplicate at the bottom",
            payload: repeated(#"{"a":"#, (limit - 13) / 5) + Array(#"{"a":1,"a":1}"#.utf8)),
        Case(
            name: "deep arrays, balanced (accepted)",
            payload: withMember("x") { nested("[", "]", tail: "", room: $0) }),
        Case(
            name: "deep objects, balanced (accepted)",
            payload: withMember("x") { nested(#"{"a":"#, "}", tail: "0", room: $0) }),
        Case(
            name: "many members (accepted)",
            payload: withMember("x") { room in members(room) { "m\($0)" } }),
        Case(
            name: "many members, last one duplicate",
            payload: withMember("x") { room in
                members(room - 10) { "m\($0)" }.dropLast() + Array(#","m0":0}"#.utf8)
            }),
        Case(
            name: "many top-level members (accepted)",
            payload: Array(normal.payload.dropLast()) + [UInt8(ascii: ",")]
                + members(limit - normal.payload.count) { "m\($0)" }.dropFirst()),
        Case(
            name: "colliding names, escaped (accepted)",
            payload: withMember("x") { collidingNameObjects(room: $0) }),
        Case(
            name: "long ASCII string (accepted)",
            payload: withMember("x") { Array("\"".utf8) + repeated("a", $0 - 2) + Array("\"".utf8) }),
        Case(
            name: "long UTF-8 string (accepted)",
            payload: withMember("x") { Array("\"".utf8) + repeated("ệ", ($0 - 2) / 3) + Array("\"".utf8) }),
        Case(
            name: "many \\u escapes (accepted)",
            payload: withMember("x") { Array("\"".utf8) + repeated(#"\u00e9"#, ($0 - 2) / 6) + Array("\"".utf8) }),
        Case(
            name: "many surrogate escapes in a name (accepted)",
            payload: withMember("x") { room in
                Array(#"{""#.utf8) + repeated(#"\ud83d\ude00"#, (room - 7) / 12) + Array(#"":1}"#.utf8)
            }),
        Case(
            name: "long duplicate name",
            payload: withMember("x") { room in
                let name = repeated("n", (room - 10) / 2)
                return Array(#"{""#.utf8) + name + Array(#"":1,""#.utf8) + name + Array(#"":1}"#.utf8)
            }),
        Case(
            name: "long escaped duplicate name",
            payload: withMember("x") { room in
                let name = repeated(#"\u006e"#, (room - 10) / 12)
                return Array(#"{""#.utf8) + name + Array(#"":1,""#.utf8) + name + Array(#"":1}"#.utf8)
            }),
        Case(
            name: "many numbers (accepted)",
            payload: withMember("x") { Array("[".utf8) + repeated("0,", ($0 - 3) / 2) + Array("0]".utf8) }),
        Case(
            name: "many empty containers (accepted)",
            payload: withMember("x") { Array("[".utf8) + repeated("{},", ($0 - 4) / 3) + Array("[]]".utf8) }),
        Case(
            name: "huge integer",
            payload: withMember("advanced_vnd", base: withoutAdvance.canonicalJSON()) { repeated("9", $0) }),
        Case(name: "many activities (accepted)", payload: manyActivities()),
    ]

    /// `{"m0":0,"m1":0,…}` filling about `room` bytes.
    static func members(_ room: Int, _ name: (Int) -> String) -> [UInt8] {
        var out = Array("{".utf8)
        var i = 0
        while true {
            let member = Array("\"\(name(i))\":0,".utf8)
            guard out.count + member.count + 1 <= room else { break }
            out += member
            i += 1
        }
        if out.count > 1 { out.removeLast() }
        return out + Array("}".utf8)
    }

    /// Objects of 32 members whose names have the same length and the same first and last 8
    /// bytes after unescaping (so the same cheap name hash), each name escaped: every pair is
    /// compared in full.
    static func collidingNameObjects(room: Int) -> [UInt8] {
        func name(_ k: Int) -> String {
            let bits = String(k, radix: 2)
            let middle = String(repeating: "0", count: 5 - bits.count) + bits  // 5 bits: 32 names
            return String(repeating: #"\u0041"#, count: 8) + middle.map { $0 == "0" ? #"\u0030"# : #"\u0031"# }.joined()
                + String(repeating: #"\u0042"#, count: 8)
        }
        let object = "{" + (0..<32).map { "\"\(name($0))\":0" }.joined(separator: ",") + "}"
        let n = (room - 2) / (object.utf8.count + 1)
        return Array(("[" + Array(repeating: object, count: max(1, n)).joined(separator: ",") + "]").utf8)
    }

    /// As many activities as fit, adding up to `executed_vnd`.
    static func manyActivities() -> [UInt8] {
        var update = normalUpdate
        let item = Activity(category: .training, executedVND: 1, projects: 1, beneficiaries: 1)
        var count = 1
        while true {
            update.activities = Array(repeating: item, count: count * 2)
            update.executedVND = Int64(count * 2)
            if update.canonicalJSON().count > limit { break }
            count *= 2
        }
        var low = count, high = count * 2
        while high - low > 1 {
            let mid = (low + high) / 2
            update.activities = Array(repeating: item, count: mid)
            update.executedVND = Int64(mid)
            if update.canonicalJSON().count <= limit { low = mid } else { high = mid }
        }
        update.activities = Array(repeating: item, count: low)
        update.executedVND = Int64(low)
        return update.canonicalJSON()
    }
}

/// CPU cost of decoding one message, per byte: the least of several rounds, each decoding it
/// often enough to take about `roundSeconds` of CPU time.
public enum DecodeCost {
    public static func nanosecondsPerByte(
        _ c: HostileInputs.Case, decoder: ExecutionUpdateDecoder,
        roundSeconds: Double = 0.02, rounds: Int = 5
    ) -> [Double] {
        // Calibrate: how many decodes make one round.
        var repetitions = 1
        while true {
            let t = time(c, decoder, repetitions)
            if t >= roundSeconds / 4 || repetitions >= 1 << 24 {
                repetitions = max(1, Int(Double(repetitions) * roundSeconds / max(t, 1e-9)))
                break
            }
            repetitions *= 4
        }
        return (0..<rounds).map { _ in time(c, decoder, repetitions) * 1e9 / Double(repetitions * c.payload.count) }
    }

    static func time(_ c: HostileInputs.Case, _ decoder: ExecutionUpdateDecoder, _ repetitions: Int) -> Double {
        let start = DecodeBenchmark.threadCPUSeconds()
        for _ in 0..<repetitions {
            switch decoder.decode(payload: c.payload, key: c.key) {
            case .success(let u): blackHole(u.revision)
            case .failure(let r): blackHole(Int64(r.detail.utf8.count))
            }
        }
        return DecodeBenchmark.threadCPUSeconds() - start
    }

    @inline(never) static func blackHole(_ v: Int64) { if v == .min { print("") } }
}
