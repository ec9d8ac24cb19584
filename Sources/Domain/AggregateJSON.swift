/// A minimal deterministic JSON writer for the aggregator's outputs: members are written in
/// the order the code writes them, numbers are integers or percent hundredths.
struct AggregateJSON {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false

    init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    /// Writes `"name":` — the next call writes its value.
    mutating func key(_ name: String) {
        separator()
        appendString(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func string(_ s: String) { separator(); appendString(s); needsComma = true }
    mutating func string(_ s: String?) { if let s { string(s) } else { null() } }
    mutating func int<I: BinaryInteger>(_ v: I) { raw(String(v)) }
    mutating func int<I: BinaryInteger>(_ v: I?) { if let v { int(v) } else { null() } }
    mutating func bool(_ v: Bool) { raw(v ? "true" : "false") }
    mutating func null() { raw("null") }
    /// A percentage in hundredths, or null.
    mutating func percent(_ hundredths: Int128?) { if let h = hundredths { raw(Percent.json(h)) } else { null() } }

    private mutating func raw(_ text: String) { separator(); bytes.append(contentsOf: text.utf8); needsComma = true }

    private mutating func separator() { if needsComma { bytes.append(UInt8(ascii: ",")) } }

    private mutating func appendString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
