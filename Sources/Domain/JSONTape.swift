/// A parsed JSON text as a flat tape of nodes (see `JSONTape.parse`, the strict parser):
/// no per-value allocation; values are read straight from the original bytes.
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
        return nodes[i].flag
            ? String(decoding: JSONTape.unescape(r), as: UTF8.self) : String(decoding: r, as: UTF8.self)
    }

    /// True when a string/key node equals `literal` after unescaping.
    func stringEquals(_ i: Int, _ literal: [UInt8]) -> Bool {
        let r = raw(i)
        if nodes[i].flag { return JSONTape.unescape(r) == literal }
        return literal.withUnsafeBytes { JSONTape.bytesEqual(r, $0) }
    }

    static func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard let x = a.baseAddress, let y = b.baseAddress else { return true }
        // Names are short: compare 8 bytes at a time inline rather than calling memcmp.
        var i = 0
        while i + 8 <= a.count {
            if (x + i).loadUnaligned(as: UInt64.self) != (y + i).loadUnaligned(as: UInt64.self) { return false }
            i += 8
        }
        while i < a.count {
            if x.load(fromByteOffset: i, as: UInt8.self) != y.load(fromByteOffset: i, as: UInt8.self) { return false }
            i += 1
        }
        return true
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

    /// Skips the whole 8-byte words of plain string bytes in `base[start..<count]` (SWAR):
    /// returns the index of the first '"', '\\', byte < 0x20 or non-ASCII byte, or where fewer
    /// than 8 bytes are left (the caller's byte loop goes on from there). Both string scans use it.
    @inline(__always)
    static func plainWords(_ base: UnsafeRawPointer, count: Int, from start: Int) -> Int {
        var j = start
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        while j + 8 <= count {
            let w = (base + j).loadUnaligned(as: UInt64.self)
            let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
            // A high bit marks a '"', a '\\', a byte < 0x20 or a non-ASCII byte.
            let special =
                ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((w &- ones &* 0x20) & ~w) | w
            // The lowest marked byte is the first special one (a borrow only marks bytes above a
            // real match): go straight to it.
            if special & highs != 0 { return j + (special & highs).trailingZeroBitCount >> 3 }
            j += 8
        }
        return j
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

    /// Appends a scalar's UTF-8 (U+FFFD for a lone surrogate, which the parser never lets through).
    /// Written out rather than through `String`: a name of \\u escapes costs one append each.
    static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case ..<0x80:
            out.append(UInt8(scalar))
        case ..<0x800:
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        case 0xD800...0xDFFF:
            out += [0xEF, 0xBF, 0xBD]
        case ..<0x10000:
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18))
            out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Unescapes the inside of an already validated string.
    static func unescape(_ r: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(r.count)
        unescape(r, into: &out)
        return out
    }

    /// Appends the unescaped bytes of an already validated string to `out` (never more bytes
    /// than `r` has).
    static func unescape(_ r: UnsafeRawBufferPointer, into out: inout [UInt8]) {
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
                if (0xD800...0xDBFF).contains(scalar), let low = hex4(r, at: i + 2), (0xDC00...0xDFFF).contains(low) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                appendUTF8(scalar, to: &out)
            default: out.append(e)
            }
        }
    }
}
