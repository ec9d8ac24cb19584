/// The aggregator's fast JSON writer (summaries are its hot path): members in the order the
/// code writes them, integers and percent hundredths written straight into the buffer, static
/// member names, no container stack. Escaping is JSONWriter's.
struct AggregateJSON {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false

    init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    /// Appends members already encoded by another writer (`"a":1,"b":2`).
    mutating func members(_ encoded: [UInt8]) {
        separator()
        bytes.append(contentsOf: encoded)
        needsComma = true
    }

    /// Writes `"name":` — the next call writes its value. Names are plain ASCII literals.
    mutating func key(_ name: StaticString) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// `"YYYY-MM"` without building a String.
    mutating func period(year: Int, month: Int) {
        separator()
        let y = UInt8(clamping: max(0, year) / 100), yy = UInt8(clamping: max(0, year) % 100),
            mo = UInt8(clamping: month)
        let digit = { (v: UInt8) in UInt8(ascii: "0") + v }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 9) { b in
            b[0] = UInt8(ascii: "\"")
            b[1] = digit(y / 10 % 10); b[2] = digit(y % 10); b[3] = digit(yy / 10); b[4] = digit(yy % 10)
            b[5] = UInt8(ascii: "-")
            b[6] = digit(mo / 10 % 10); b[7] = digit(mo % 10)
            b[8] = UInt8(ascii: "\"")
            bytes.append(contentsOf: UnsafeBufferPointer(b))
        }
        needsComma = true
    }

    /// A computed member name; string literals take the `StaticString` overload above.
    @_disfavoredOverload
    mutating func key(_ name: String) {
        separator()
        appendString(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func string(_ s: String) { separator(); appendString(s); needsComma = true }
    mutating func string(_ s: String?) { if let s { string(s) } else { null() } }
    mutating func int(_ v: Int) { int(Int128(v)) }
    mutating func int(_ v: Int64) { int(Int128(v)) }
    mutating func int(_ v: Int128?) { if let v { int(v) } else { null() } }

    /// Decimal digits formatted on the stack, appended in one copy (no intermediate String).
    mutating func int(_ v: Int128) {
        separator()
        appendDecimal(v, fractionDigits: 0)
        needsComma = true
    }

    mutating func bool(_ v: Bool) { literal(v ? "true" : "false") }
    mutating func null() { literal("null") }

    /// A value given as literal JSON text (`null`, `true`, `"actual"`).
    mutating func literal(_ json: StaticString) {
        separator()
        bytes.append(contentsOf: UnsafeBufferPointer(start: json.utf8Start, count: json.utf8CodeUnitCount))
        needsComma = true
    }

    /// A percentage in hundredths as a number with two decimals (1210 → 12.10), or null.
    mutating func percent(_ hundredths: Int128?) {
        guard let h = hundredths else { null(); return }
        separator()
        appendDecimal(h, fractionDigits: 2)
        needsComma = true
    }

    /// `v` / 10^fractionDigits with exactly that many decimals (-5, 2 → "-0.05"), written
    /// right to left into a stack buffer and appended in one copy.
    private mutating func appendDecimal(_ v: Int128, fractionDigits: Int) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 48) { b in
            var i = b.count
            func put(_ c: UInt8) { i -= 1; b[i] = c }
            var m = v.magnitude
            var written = 0
            while m > UInt128(UInt64.max) {
                put(UInt8(ascii: "0") + UInt8(m % 10)); m /= 10
                written += 1
                if written == fractionDigits { put(UInt8(ascii: ".")) }
            }
            var n = UInt64(m)
            repeat {
                put(UInt8(ascii: "0") + UInt8(n % 10)); n /= 10
                written += 1
                if written == fractionDigits { put(UInt8(ascii: ".")) }
            } while n > 0 || written <= fractionDigits
            if v < 0 { put(UInt8(ascii: "-")) }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: b[i...]))
        }
    }

    private mutating func separator() { if needsComma { bytes.append(UInt8(ascii: ",")) } }

    private mutating func appendString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        let plain = s.utf8.withContiguousStorageIfAvailable { buf -> Bool in
            guard !buf.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return false }
            bytes.append(contentsOf: buf)
            return true
        }
        if plain != true { appendEscaped(s) }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscaped(_ s: String) { JSONWriter.appendEscaped(s.utf8, to: &bytes) }
}
