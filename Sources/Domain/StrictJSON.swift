#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A strict, single-pass RFC 8259 JSON parser over raw bytes, built for the decode hot path.
///
/// It produces a flat tape of nodes (no per-value allocation) and rejects everything a lenient
/// parser lets through: invalid UTF-8 (overlong forms, surrogates, > U+10FFFF), unpaired
/// `\u` surrogate escapes, leading zeros, a byte-order mark, trailing data and duplicate member
/// names at any depth (compared after unescaping). It is iterative, so nesting depth cannot
/// overflow the stack.
struct JSONTape {
    enum Kind: UInt8 { case object, array, string, number, trueValue, falseValue, null, key }

    struct Node {
        var kind: Kind
        /// String/key: set when the text holds a backslash escape. Number: set for an integer
        /// (no fraction, no exponent).
        var flag: Bool
        /// Byte range of the token; strings and keys exclude the quotes.
        var start: Int32
        var end: Int32
        /// Index of the first node after this value's subtree (containers) or of the next node.
        var next: Int32
        /// Containers: number of elements or members. Keys: a hash of the unescaped name, so
        /// duplicate and name checks compare bytes only when hashes agree.
        var count: Int32
        /// Integer numbers: the value, saturated (see `integerValue`).
        var value: Int64 = 0
    }

    let bytes: UnsafeRawBufferPointer
    var nodes: [Node]

    /// Raw bytes of a node's token.
    func raw(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[Int(nodes[i].start)..<Int(nodes[i].end)])
    }

    /// A value's JSON text as sent: like `raw`, with the quotes of strings.
    func text(_ i: Int) -> UnsafeRawBufferPointer {
        let quoted = nodes[i].kind == .string || nodes[i].kind == .key
        let start = Int(nodes[i].start) - (quoted ? 1 : 0), end = Int(nodes[i].end) + (quoted ? 1 : 0)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// The unescaped UTF-8 of a string or key node.
    func stringBytes(_ i: Int) -> [UInt8] {
        let r = raw(i)
        return nodes[i].flag ? JSONTape.unescape(r) : Array(r)
    }

    /// Calls `body` with a string/key node's unescaped UTF-8; copies only when it has escapes.
    func withString<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        nodes[i].flag ? JSONTape.unescape(raw(i)).withUnsafeBytes(body) : body(raw(i))
    }

    func string(_ i: Int) -> String {
        let r = raw(i)
        return nodes[i].flag ? String(decoding: JSONTape.unescape(r), as: UTF8.self) : String(decoding: r, as: UTF8.self)
    }

    /// True when a string/key node equals `literal` after unescaping.
    func stringEquals(_ i: Int, _ literal: [UInt8]) -> Bool {
        let r = raw(i)
        if nodes[i].flag { return JSONTape.unescape(r) == literal }
        return literal.withUnsafeBytes { JSONTape.bytesEqual(r, $0) }
    }

    static func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard let x = a.baseAddress, let y = b.baseAddress, a.count > 0 else { return true }
        return x.load(as: UInt8.self) == y.load(as: UInt8.self) && memcmp(x, y, a.count) == 0
    }

    /// Visits an object's members as (key node, value node) or an array's elements as (-1, node).
    func forEachChild(_ container: Int, _ body: (_ key: Int, _ value: Int) -> Void) {
        var i = container + 1
        let isObject = nodes[container].kind == .object
        for _ in 0..<Int(nodes[container].count) {
            if isObject {
                body(i, i + 1)
                i = Int(nodes[i + 1].next)
            } else {
                body(-1, i)
                i = Int(nodes[i].next)
            }
        }
    }

    /// An integer node's value, saturated to Int64's range so huge digit strings cannot trap
    /// (every contract range lies far inside Int64).
    func integerValue(_ i: Int) -> Int64 { nodes[i].value }

    static func saturatingInteger(_ r: UnsafeRawBufferPointer) -> Int64 {
        var negative = false
        var value: Int64 = 0
        for b in r {
            if b == UInt8(ascii: "-") { negative = true; continue }
            let d = Int64(b &- 0x30)
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
            if o1 || o2 { return negative ? .min : .max }
            value = s
        }
        return value
    }

    // MARK: - Parsing

    struct SyntaxError: Error, Equatable {
        enum Problem: Equatable {
            case empty, byteOrderMark, unexpectedEnd, unexpectedByte(UInt8), invalidUTF8, controlCharacter,
                 badEscape, unpairedSurrogate, badNumber, trailingData
            case duplicateMember(pointer: String, name: String)
        }
        var problem: Problem
        var offset: Int
    }

    static func parse(_ p: UnsafeRawBufferPointer) -> Result<JSONTape, SyntaxError> {
        var parser = Parser(p: p)
        do {
            try parser.run()
        } catch {
            return .failure(error)
        }
        return .success(JSONTape(bytes: p, nodes: parser.nodes))
    }

    private struct Parser {
        let p: UnsafeRawBufferPointer
        var i = 0
        var nodes: [Node] = []
        var open: [Int32] = []

        init(p: UnsafeRawBufferPointer) {
            self.p = p
            nodes.reserveCapacity(64)
            open.reserveCapacity(8)
        }

        func fail(_ problem: SyntaxError.Problem, at offset: Int? = nil) -> SyntaxError {
            SyntaxError(problem: problem, offset: offset ?? i)
        }

        mutating func skipWhitespace() {
            var j = i // a local index keeps the loop in registers
            while j < p.count {
                switch p[j] {
                case 0x20, 0x0A, 0x0D, 0x09: j += 1
                default: i = j; return
                }
            }
            i = j
        }

        mutating func peek() throws(SyntaxError) -> UInt8 {
            skipWhitespace()
            guard i < p.count else { throw fail(.unexpectedEnd) }
            return p[i]
        }

        mutating func run() throws(SyntaxError) {
            if p.isEmpty { throw fail(.empty) }
            if p.count >= 3, p[0] == 0xEF, p[1] == 0xBB, p[2] == 0xBF { throw fail(.byteOrderMark) }
            var expectValue = true
            while true {
                if expectValue {
                    try parseValueStart()
                    // An opened container with a first element leaves us expecting a value/key.
                    if let top = open.last, Int(top) == nodes.count - 1 {
                        let closer: UInt8 = nodes[Int(top)].kind == .object ? UInt8(ascii: "}") : UInt8(ascii: "]")
                        if try peek() == closer {
                            i += 1
                            close()
                            expectValue = false
                        } else if nodes[Int(top)].kind == .object {
                            try parseKey()
                        }
                        continue
                    }
                    expectValue = false
                    continue
                }
                guard let top = open.last else {
                    skipWhitespace()
                    if i != p.count { throw fail(.trailingData) }
                    return
                }
                let isObject = nodes[Int(top)].kind == .object
                let c = try peek()
                if c == UInt8(ascii: ",") {
                    i += 1
                    if isObject { try parseKey() }
                    expectValue = true
                } else if c == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    i += 1
                    if isObject { try checkDuplicates(Int(top)) }
                    close()
                } else {
                    throw fail(c >= 0x80 ? .invalidUTF8 : .unexpectedByte(c))
                }
            }
        }

        /// Adds one value node (or opens a container) and counts it in its parent array.
        mutating func parseValueStart() throws(SyntaxError) {
            let c = try peek()
            if let top = open.last, nodes[Int(top)].kind == .array { nodes[Int(top)].count += 1 }
            let start = i
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                i += 1
                open.append(Int32(nodes.count))
                nodes.append(Node(kind: c == UInt8(ascii: "{") ? .object : .array, flag: false,
                                  start: Int32(start), end: 0, next: 0, count: 0))
            case UInt8(ascii: "\""):
                try parseString(kind: .string)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try parseNumber()
            case UInt8(ascii: "t"): try literal("true", .trueValue)
            case UInt8(ascii: "f"): try literal("false", .falseValue)
            case UInt8(ascii: "n"): try literal("null", .null)
            default:
                throw fail(c >= 0x80 ? .invalidUTF8 : .unexpectedByte(c))
            }
        }

        mutating func close() {
            guard let top = open.popLast() else { return }
            nodes[Int(top)].end = Int32(i)
            nodes[Int(top)].next = Int32(nodes.count)
        }

        mutating func parseKey() throws(SyntaxError) {
            let c = try peek()
            guard c == UInt8(ascii: "\"") else { throw fail(c >= 0x80 ? .invalidUTF8 : .unexpectedByte(c)) }
            if let top = open.last { nodes[Int(top)].count += 1 }
            try parseString(kind: .key)
            let colon = try peek()
            guard colon == UInt8(ascii: ":") else { throw fail(colon >= 0x80 ? .invalidUTF8 : .unexpectedByte(colon)) }
            i += 1
        }

        mutating func literal(_ word: StaticString, _ kind: Kind) throws(SyntaxError) {
            let n = word.utf8CodeUnitCount
            guard i + n <= p.count else { throw fail(.unexpectedEnd) }
            let w = UnsafeRawBufferPointer(start: word.utf8Start, count: n)
            for k in 0..<n where p[i + k] != w[k] { throw fail(.unexpectedByte(p[i + k]), at: i + k) }
            nodes.append(Node(kind: kind, flag: false, start: Int32(i), end: Int32(i + n), next: Int32(nodes.count + 1), count: 0))
            i += n
        }

        mutating func parseNumber() throws(SyntaxError) {
            let start = i
            var j = i
            var integer = true
            func digits() throws(SyntaxError) {
                guard j < p.count, isDigit(p[j]) else { throw fail(.badNumber, at: start) }
                while j < p.count, isDigit(p[j]) { j += 1 }
            }
            if p[j] == UInt8(ascii: "-") { j += 1 }
            if j < p.count, p[j] == UInt8(ascii: "0") {
                j += 1
                if j < p.count, isDigit(p[j]) { throw fail(.badNumber, at: start) }
            } else {
                try digits()
            }
            if j < p.count, p[j] == UInt8(ascii: ".") {
                integer = false
                j += 1
                try digits()
            }
            if j < p.count, p[j] | 0x20 == UInt8(ascii: "e") {
                integer = false
                j += 1
                if j < p.count, p[j] == UInt8(ascii: "+") || p[j] == UInt8(ascii: "-") { j += 1 }
                try digits()
            }
            i = j
            let value = integer ? JSONTape.saturatingInteger(UnsafeRawBufferPointer(rebasing: p[start..<j])) : 0
            nodes.append(Node(kind: .number, flag: integer, start: Int32(start), end: Int32(j), next: Int32(nodes.count + 1), count: 0, value: value))
        }

        func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

        /// Scans a string from its opening quote; validates escapes and UTF-8.
        mutating func parseString(kind: Kind) throws(SyntaxError) {
            i += 1
            let start = i
            var escaped = false
            while true {
                // Fast run over plain ASCII: 8 bytes at a time (SWAR), then byte by byte.
                var j = i
                if let base = p.baseAddress {
                    let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
                    while j + 8 <= p.count {
                        let w = (base + j).loadUnaligned(as: UInt64.self)
                        let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
                        // A high bit marks a '"', a '\\', a byte < 0x20 or a non-ASCII byte.
                        let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)
                            | ((w &- ones &* 0x20) & ~w) | w
                        if special & highs != 0 { break }
                        j += 8
                    }
                }
                while j < p.count {
                    let b = p[j]
                    if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { break }
                    j += 1
                }
                i = j
                guard i < p.count else { throw fail(.unexpectedEnd) }
                let b = p[i]
                if b == UInt8(ascii: "\"") { break }
                if b == UInt8(ascii: "\\") {
                    escaped = true
                    try parseEscape()
                } else if b < 0x20 {
                    throw fail(.controlCharacter)
                } else if b < 0x80 {
                    i += 1
                } else {
                    guard let n = JSONTape.utf8SequenceLength(p, at: i) else { throw fail(.invalidUTF8) }
                    i += n
                }
            }
            var node = Node(kind: kind, flag: escaped, start: Int32(start), end: Int32(i), next: Int32(nodes.count + 1), count: 0)
            if kind == .key {
                let raw = UnsafeRawBufferPointer(rebasing: p[start..<i])
                node.count = escaped ? JSONTape.unescape(raw).withUnsafeBytes(JSONTape.nameHash) : JSONTape.nameHash(raw)
            }
            nodes.append(node)
            i += 1
        }

        mutating func parseEscape() throws(SyntaxError) {
            let at = i
            guard i + 1 < p.count else { throw fail(.unexpectedEnd) }
            switch p[i + 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                 UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                i += 2
            case UInt8(ascii: "u"):
                guard let unit = JSONTape.hex4(p, at: i + 2) else { throw fail(.badEscape, at: at) }
                i += 6
                if (0xDC00...0xDFFF).contains(unit) { throw fail(.unpairedSurrogate, at: at) }
                if (0xD800...0xDBFF).contains(unit) {
                    guard i + 1 < p.count, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u"),
                          let low = JSONTape.hex4(p, at: i + 2), (0xDC00...0xDFFF).contains(low)
                    else { throw fail(.unpairedSurrogate, at: at) }
                    i += 6
                }
            default:
                throw fail(.badEscape, at: at)
            }
        }

        /// Duplicate member names in the object just closed. Small objects compare pairwise
        /// (no allocation); large ones use a set.
        func checkDuplicates(_ object: Int) throws(SyntaxError) {
            let tape = JSONTape(bytes: p, nodes: nodes)
            let count = Int(nodes[object].count)
            if count <= 32 {
                // Hashes side by side in a stack buffer; bytes are compared only on a hash match.
                let collision: Int? = withUnsafeTemporaryAllocation(of: (hash: Int32, key: Int).self, capacity: max(count, 1)) { buf in
                    var k = object + 1
                    for n in 0..<count {
                        let h = nodes[k].count
                        for m in 0..<n where buf[m].hash == h && tape.keysEqual(k, buf[m].key) { return k }
                        buf[n] = (h, k)
                        k = Int(nodes[k + 1].next)
                    }
                    return nil
                }
                if let collision { throw duplicate(tape, object: object, key: collision) }
            } else {
                var seen = Set<[UInt8]>()
                var failure: SyntaxError?
                tape.forEachChild(object) { k, _ in
                    if failure == nil, !seen.insert(tape.stringBytes(k)).inserted {
                        failure = duplicate(tape, object: object, key: k)
                    }
                }
                if let failure { throw failure }
            }
        }

        func duplicate(_ tape: JSONTape, object: Int, key: Int) -> SyntaxError {
            let name = tape.string(key)
            let pointer = tape.pointer(to: object, openContainers: open) + "/" + JSONPointer.escape(name)
            return SyntaxError(problem: .duplicateMember(pointer: pointer, name: name), offset: Int(nodes[key].start) - 1)
        }
    }

    /// A cheap hash of a name: its length and first and last 8 bytes (bytewise when shorter).
    static func nameHash(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        let k: UInt64 = 0x9E37_79B9_7F4A_7C15
        var h = UInt64(bytes.count) &* k
        if bytes.count >= 8, let base = bytes.baseAddress {
            h = (h ^ base.loadUnaligned(as: UInt64.self)) &* k
            h = (h ^ (base + bytes.count - 8).loadUnaligned(as: UInt64.self)) &* k
        } else {
            for b in bytes { h = (h ^ UInt64(b)) &* k }
        }
        return Int32(truncatingIfNeeded: h ^ (h >> 32))
    }

    func keysEqual(_ a: Int, _ b: Int) -> Bool {
        guard nodes[a].count == nodes[b].count else { return false }
        if !nodes[a].flag && !nodes[b].flag { return JSONTape.bytesEqual(raw(a), raw(b)) }
        return stringBytes(a) == stringBytes(b)
    }

    /// JSON Pointer of a node, walking down from the root; containers in `openContainers` are
    /// still being parsed (their `next` is not set yet).
    func pointer(to target: Int, openContainers: [Int32] = []) -> String {
        var pointer = ""
        var current = 0
        while current != target {
            var found = -1
            var foundKey = -1
            var index = 0
            forEachChildSafely(current, openContainers: openContainers) { k, v in
                guard found < 0 else { return }
                let end = openContainers.contains(Int32(v)) ? Int.max : Int(nodes[v].next)
                if v <= target && target < end {
                    found = v
                    foundKey = k
                } else {
                    index += 1
                }
            }
            guard found >= 0 else { break }
            pointer += "/" + (foundKey >= 0 ? JSONPointer.escape(string(foundKey)) : String(index))
            current = found
        }
        return pointer
    }

    /// Like `forEachChild`, but stops at a still-open child (whose subtree end is unknown).
    private func forEachChildSafely(_ container: Int, openContainers: [Int32], _ body: (Int, Int) -> Void) {
        var i = container + 1
        let isObject = nodes[container].kind == .object
        for _ in 0..<Int(nodes[container].count) {
            let value = isObject ? i + 1 : i
            guard value < nodes.count else { return }
            body(isObject ? i : -1, value)
            if openContainers.contains(Int32(value)) { return }
            i = Int(nodes[value].next)
        }
    }

    // MARK: - Byte helpers

    /// Length of the valid UTF-8 sequence starting at `i` (a byte ≥ 0x80), or nil (RFC 3629).
    static func utf8SequenceLength(_ p: UnsafeRawBufferPointer, at i: Int) -> Int? {
        let b0 = p[i]
        func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            i + k < p.count && p[i + k] >= lo && p[i + k] <= hi
        }
        switch b0 {
        case 0xC2...0xDF: return cont(1) ? 2 : nil
        case 0xE0: return cont(1, 0xA0) && cont(2) ? 3 : nil
        case 0xE1...0xEC, 0xEE, 0xEF: return cont(1) && cont(2) ? 3 : nil
        case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : nil
        case 0xF0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : nil
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : nil
        case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : nil
        default: return nil
        }
    }

    /// Offset of the first invalid UTF-8 byte, or nil when all of `p` is valid UTF-8.
    static func firstInvalidUTF8(_ p: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        while i < p.count {
            if p[i] < 0x80 { i += 1; continue }
            guard let n = utf8SequenceLength(p, at: i) else { return i }
            i += n
        }
        return nil
    }

    static func hex4(_ p: UnsafeRawBufferPointer, at i: Int) -> UInt32? {
        guard i + 4 <= p.count else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 {
            let b = p[i + k]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - 0x30
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - 0x61 + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - 0x41 + 10
            default: return nil
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// Unescapes the inside of an already validated string.
    static func unescape(_ r: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(r.count)
        var i = 0
        while i < r.count {
            let b = r[i]
            guard b == UInt8(ascii: "\\"), i + 1 < r.count else { out.append(b); i += 1; continue }
            let e = r[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(r, at: i) ?? 0xFFFD
                i += 4
                if (0xD800...0xDBFF).contains(scalar), let low = hex4(r, at: i + 2) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
            default: out.append(e)
            }
        }
        return out
    }
}

/// RFC 6901 JSON Pointer helpers.
public enum JSONPointer {
    /// Escapes one reference token: `~` → `~0`, `/` → `~1`.
    public static func escape(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
        return token.replacing("~", with: "~0").replacing("/", with: "~1")
    }

    /// A pointer from reference tokens: ["activities", "2", "executed_vnd"] → /activities/2/executed_vnd.
    public static func make(_ tokens: [String]) -> String {
        tokens.map { "/" + escape($0) }.joined()
    }
}
