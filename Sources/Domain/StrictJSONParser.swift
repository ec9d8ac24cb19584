/// A strict, single-pass RFC 8259 JSON parser over raw bytes, built for the decode hot path.
///
/// It produces a flat tape of nodes (no per-value allocation) and rejects everything a lenient
/// parser lets through: invalid UTF-8 (overlong forms, surrogates, > U+10FFFF), unpaired
/// `\u` surrogate escapes, leading zeros, a byte-order mark, trailing data and duplicate member
/// names at any depth (compared after unescaping; at the top level only in `membersOnly` mode).
/// It is iterative, so nesting depth cannot overflow the stack.
extension JSONTape {
    struct SyntaxError: Error, Equatable {
        enum Problem: Equatable {
            case empty, byteOrderMark, unexpectedEnd, unexpectedByte(UInt8), invalidUTF8, controlCharacter,
                badEscape, unpairedSurrogate, badNumber, trailingData
            /// `pointer` is cut to `RejectionText.quoteLimit` bytes (`pointerCut`); `name` is whole.
            case duplicateMember(pointer: String, pointerCut: Bool, name: [UInt8])
        }
        var problem: Problem
        var offset: Int
    }

    /// `membersOnly`: the tape holds the top-level value's members only. A container inside it
    /// is validated as strictly (duplicate names excepted) but becomes one node without children:
    /// a reader that needs a few top-level members of a large document is spared the rest's tape.
    static func parse(_ p: UnsafeRawBufferPointer, membersOnly: Bool = false) -> Result<JSONTape, SyntaxError> {
        var parser = Parser(p: p, membersOnly: membersOnly)
        do {
            try parser.run()
        } catch {
            return .failure(error)
        }
        return .success(JSONTape(bytes: p, nodes: parser.nodes))
    }

    fileprivate struct Parser {
        let p: UnsafeRawBufferPointer
        let membersOnly: Bool
        var i = 0
        var nodes: [Node] = []
        /// The innermost open container (-1: none). An open container's `next` links to its
        /// parent until it closes: the stack costs no allocation.
        var top = -1

        init(p: UnsafeRawBufferPointer, membersOnly: Bool = false) {
            self.p = p
            self.membersOnly = membersOnly
            // About one node per 6 bytes of compact JSON: one allocation for a typical message.
            nodes.reserveCapacity(membersOnly ? 64 : min(max(64, p.count / 4), 4096))
        }

        func fail(_ problem: SyntaxError.Problem, at offset: Int? = nil) -> SyntaxError {
            SyntaxError(problem: problem, offset: offset ?? i)
        }

        mutating func skipWhitespace() {
            var j = i  // a local index keeps the loop in registers
            while j < p.count {
                switch p[j] {
                case 0x20, 0x0A, 0x0D, 0x09: j += 1
                default: i = j; return
                }
            }
            i = j
        }

        @inline(__always)
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
                    if top >= 0 && top == nodes.count - 1 {
                        let closer: UInt8 = nodes[top].kind == .object ? UInt8(ascii: "}") : UInt8(ascii: "]")
                        if try peek() == closer {
                            i += 1
                            close()
                            expectValue = false
                        } else if nodes[top].kind == .object {
                            try key(recorded: true)
                        }
                        continue
                    }
                    expectValue = false
                    continue
                }
                guard top >= 0 else {
                    skipWhitespace()
                    if i != p.count { throw fail(.trailingData) }
                    return
                }
                let isObject = nodes[top].kind == .object
                if try closesAfterElement(isObject: isObject, recorded: true) {
                    if isObject { try checkDuplicates(top) }
                    close()
                } else {
                    expectValue = true
                }
            }
        }

        /// Adds one value node (or opens a container) and counts it in its parent array.
        mutating func parseValueStart() throws(SyntaxError) {
            let c = try peek()
            if top >= 0, nodes[top].kind == .array { nodes[top].count += 1 }
            let start = i
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if membersOnly && top >= 0 {
                    try skipContainer()
                    nodes.append(
                        Node(
                            kind: c == UInt8(ascii: "{") ? .object : .array, flag: false,
                            start: Int32(start), end: Int32(i), next: Int32(nodes.count + 1), count: 0))
                    return
                }
                i += 1
                nodes.append(
                    Node(
                        kind: c == UInt8(ascii: "{") ? .object : .array, flag: false,
                        start: Int32(start), end: 0, next: Int32(top), count: 0))
                top = nodes.count - 1
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
            guard top >= 0 else { return }
            let parent = Int(nodes[top].next)
            nodes[top].end = Int32(i)
            nodes[top].next = Int32(nodes.count)
            top = parent
        }

        /// After a container's element: a comma (and, in an object, the next member's name), then
        /// false; or the container's closing bracket, then true.
        mutating func closesAfterElement(isObject: Bool, recorded: Bool) throws(SyntaxError) -> Bool {
            let c = try peek()
            if c == UInt8(ascii: ",") {
                i += 1
                if isObject { try key(recorded: recorded) }
                return false
            }
            guard c == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else {
                throw fail(c >= 0x80 ? .invalidUTF8 : .unexpectedByte(c))
            }
            i += 1
            return true
        }

        /// A member name and its colon; `recorded`: as a key node counted in its object.
        mutating func key(recorded: Bool) throws(SyntaxError) {
            let c = try peek()
            guard c == UInt8(ascii: "\"") else { throw fail(c >= 0x80 ? .invalidUTF8 : .unexpectedByte(c)) }
            if recorded {
                if top >= 0 { nodes[top].count += 1 }
                try parseString(kind: .key)
            } else {
                _ = try scanString()
            }
            let colon = try peek()
            guard colon == UInt8(ascii: ":") else { throw fail(colon >= 0x80 ? .invalidUTF8 : .unexpectedByte(colon)) }
            i += 1
        }

        mutating func literal(_ word: StaticString, _ kind: Kind) throws(SyntaxError) {
            let start = i
            try scanLiteral(word)
            nodes.append(
                Node(
                    kind: kind, flag: false, start: Int32(start), end: Int32(i), next: Int32(nodes.count + 1), count: 0)
            )
        }

        mutating func scanLiteral(_ word: StaticString) throws(SyntaxError) {
            let n = word.utf8CodeUnitCount
            guard i + n <= p.count else { throw fail(.unexpectedEnd) }
            let w = UnsafeRawBufferPointer(start: word.utf8Start, count: n)
            for k in 0..<n where p[i + k] != w[k] { throw fail(.unexpectedByte(p[i + k]), at: i + k) }
            i += n
        }

        mutating func parseNumber() throws(SyntaxError) {
            let start = i
            let integer = try scanNumber()
            var value: Int64 = 0
            if integer {
                let negative = p[start] == UInt8(ascii: "-")
                let first = negative ? start + 1 : start
                if i - first <= 18 {  // cannot overflow: add the digits directly
                    for k in first..<i { value = value &* 10 &+ Int64(p[k] &- 0x30) }
                    if negative { value = 0 &- value }
                } else {
                    value = JSONTape.saturatingInteger(UnsafeRawBufferPointer(rebasing: p[start..<i]))
                }
            }
            nodes.append(
                Node(
                    kind: .number, flag: integer, start: Int32(start), end: Int32(i), next: Int32(nodes.count + 1),
                    count: 0, value: value))
        }

        /// Moves past a number; whether it is an integer (no fraction, no exponent).
        mutating func scanNumber() throws(SyntaxError) -> Bool {
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
            return integer
        }

        func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

        /// Scans a string from its opening quote; validates escapes and UTF-8.
        mutating func parseString(kind: Kind) throws(SyntaxError) {
            let start = i + 1
            let escaped = try scanString()
            var node = Node(
                kind: kind, flag: escaped, start: Int32(start), end: Int32(i - 1), next: Int32(nodes.count + 1),
                count: 0)
            if kind == .key {
                let raw = UnsafeRawBufferPointer(rebasing: p[start..<(i - 1)])
                node.count =
                    escaped ? JSONTape.unescape(raw).withUnsafeBytes(JSONTape.nameHash) : JSONTape.nameHash(raw)
            }
            nodes.append(node)
        }

        /// Moves from a string's opening quote past its closing one; whether it holds an escape.
        mutating func scanString() throws(SyntaxError) -> Bool {
            i += 1
            var escaped = false
            while true {
                // Fast run over plain ASCII: 8 bytes at a time (SWAR), then byte by byte.
                var j = p.baseAddress.map { JSONTape.plainWords($0, count: p.count, from: i) } ?? i
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
            i += 1
            return escaped
        }

        /// Moves past the container that opens at `i`, validating it as `run` does but for
        /// duplicate member names, and recording no node. Iterative: the open containers are a
        /// stack of bits (1: object).
        mutating func skipContainer() throws(SyntaxError) {
            var open: [UInt64] = [0]
            var depth = 0
            func push(_ isObject: Bool) {
                if depth >> 6 == open.count { open.append(0) }
                let bit: UInt64 = 1 << UInt64(depth & 63)
                if isObject { open[depth >> 6] |= bit } else { open[depth >> 6] &= ~bit }
                depth += 1
            }
            func innermostIsObject() -> Bool { open[(depth - 1) >> 6] & (1 << UInt64((depth - 1) & 63)) != 0 }
            var expectValue = true
            while true {
                if expectValue {
                    let c = try peek()
                    switch c {
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        i += 1
                        push(c == UInt8(ascii: "{"))
                        let closer: UInt8 = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                        if try peek() == closer {
                            i += 1
                            depth -= 1
                            expectValue = false
                        } else if c == UInt8(ascii: "{") {
                            try key(recorded: false)
                        }
                        if depth == 0 { return }
                        continue
                    case UInt8(ascii: "\""): _ = try scanString()
                    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try scanNumber()
                    case UInt8(ascii: "t"): try scanLiteral("true")
                    case UInt8(ascii: "f"): try scanLiteral("false")
                    case UInt8(ascii: "n"): try scanLiteral("null")
                    default: throw fail(c >= 0x80 ? .invalidUTF8 : .unexpectedByte(c))
                    }
                    expectValue = false
                    continue
                }
                if try closesAfterElement(isObject: innermostIsObject(), recorded: false) {
                    depth -= 1
                    if depth == 0 { return }
                } else {
                    expectValue = true
                }
            }
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

        /// Duplicate member names in the object just closed. Small objects with plain names
        /// compare pairwise (no allocation); others go through a set (`duplicateBySet`).
        func checkDuplicates(_ object: Int) throws(SyntaxError) {
            let tape = JSONTape(bytes: p, nodes: nodes)
            let count = Int(nodes[object].count)
            guard count > 1 else { return }
            enum Outcome { case none, duplicate(Int), needsSet }
            var outcome = Outcome.needsSet
            if count <= 32 {
                // Hashes side by side in a stack buffer; bytes are compared only on a hash match.
                // A 64-bit filter of the hashes seen skips the scan for most keys. An escaped
                // name would be unescaped at every comparison: such objects take the set.
                outcome = withUnsafeTemporaryAllocation(of: (hash: Int32, key: Int).self, capacity: count) { buf in
                    var k = object + 1
                    var seen: UInt64 = 0
                    for n in 0..<count {
                        if nodes[k].flag { return .needsSet }
                        let h = nodes[k].count
                        let bit: UInt64 = 1 << UInt64(UInt32(bitPattern: h) & 63)
                        if seen & bit != 0 {
                            for m in 0..<n where buf[m].hash == h && tape.keysEqual(k, buf[m].key) {
                                return .duplicate(k)
                            }
                        }
                        seen |= bit
                        buf[n] = (h, k)
                        k = Int(nodes[k + 1].next)
                    }
                    return .none
                }
            }
            if case .needsSet = outcome { outcome = duplicateBySet(tape, object).map { .duplicate($0) } ?? .none }
            if case .duplicate(let key) = outcome { throw duplicate(tape, object: object, key: key) }
        }

        /// The first member whose name repeats an earlier one, through a set of the names'
        /// bytes (escaped names unescaped once, side by side in one buffer): linear in the
        /// object's size, and Swift's per-process seeded hashing leaves no collisions to craft.
        func duplicateBySet(_ tape: JSONTape, _ object: Int) -> Int? {
            struct Name: Hashable {
                let bytes: UnsafeRawBufferPointer
                static func == (a: Name, b: Name) -> Bool { JSONTape.bytesEqual(a.bytes, b.bytes) }
                func hash(into hasher: inout Hasher) { hasher.combine(bytes: bytes) }
            }
            var unescaped: [UInt8] = []
            var escapedBytes = 0
            tape.forEachChild(object) { k, _ in
                if nodes[k].flag { escapedBytes += Int(nodes[k].end - nodes[k].start) }
            }
            unescaped.reserveCapacity(escapedBytes)  // unescaping never lengthens: the views stay valid
            var spans: [(key: Int, start: Int, end: Int)] = []
            spans.reserveCapacity(Int(nodes[object].count))
            tape.forEachChild(object) { k, _ in
                if nodes[k].flag {
                    let start = unescaped.count
                    JSONTape.unescape(tape.raw(k), into: &unescaped)
                    spans.append((k, start, unescaped.count))
                } else {
                    spans.append((k, -1, -1))
                }
            }
            return unescaped.withUnsafeBytes { arena -> Int? in
                var seen = Set<Name>(minimumCapacity: spans.count)
                for span in spans {
                    let bytes =
                        span.start < 0
                        ? tape.raw(span.key) : UnsafeRawBufferPointer(rebasing: arena[span.start..<span.end])
                    if !seen.insert(Name(bytes: bytes)).inserted { return span.key }
                }
                return nil
            }
        }

        /// The duplicate's pointer and name. The object and its ancestors are still open, and
        /// each one's `next` links to its parent: the path is read bottom-up in O(depth) and
        /// written top-down until it reaches the length a rejected record quotes.
        func duplicate(_ tape: JSONTape, object: Int, key: Int) -> SyntaxError {
            var chain: [Int32] = []
            var c = object
            while c >= 0 {
                chain.append(Int32(c))
                c = Int(nodes[c].next)
            }
            var pointer = JSONPointer.Builder(limit: RejectionText.quoteLimit)
            var level = chain.count - 1
            while level > 0, !pointer.isCut {
                let parent = Int(chain[level]), child = Int(chain[level - 1])
                if nodes[parent].kind == .array {
                    pointer.append(index: Int(nodes[parent].count) - 1)  // an open child is the last element
                } else {
                    tape.withString(child - 1) { pointer.append(token: $0) }  // its key precedes it
                }
                level -= 1
            }
            let name = tape.stringBytes(key)
            pointer.append(token: name)
            let problem = SyntaxError.Problem.duplicateMember(
                pointer: pointer.string, pointerCut: pointer.isCut,
                name: name)
            return SyntaxError(problem: problem, offset: Int(nodes[key].start) - 1)
        }
    }
}
