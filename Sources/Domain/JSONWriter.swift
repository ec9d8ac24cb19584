/// A small deterministic JSON writer: members come out in the order they are written, strings
/// are escaped per RFC 8259 (non-ASCII stays raw UTF-8), no whitespace. Commas are automatic.
///
///     var w = JSONWriter()
///     w.beginObject()
///     w.key("schema"); w.string("khuyencong.rejected.v1")
///     w.key("field"); w.string(nil)            // null
///     w.key("rate"); w.decimal2(hundredths: 2844) // 28.44
///     w.endObject()
///     let bytes = w.bytes
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// One entry per open container: true until its first element is written.
    private var firstInContainer: [Bool] = []
    /// Set by `key(_:)`: the next value is that member's value, no comma before it.
    private var afterKey = false

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() { open(UInt8(ascii: "{")) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    /// A member name inside an object; the next call writes its value.
    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// A string, or null for nil.
    public mutating func string(_ value: String?) {
        separate()
        guard let value else { return appendNull() }
        appendQuoted(value)
    }

    /// An integer, or null for nil.
    public mutating func int<T: BinaryInteger>(_ value: T?) {
        separate()
        guard let value else { return appendNull() }
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func bool(_ value: Bool?) {
        separate()
        guard let value else { return appendNull() }
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    public mutating func null() {
        separate()
        appendNull()
    }

    /// A number with exactly two decimals from integer hundredths (2844 → 28.44, -5 → -0.05),
    /// or null for nil.
    public mutating func decimal2<T: BinaryInteger>(hundredths value: T?) {
        separate()
        guard let value else { return appendNull() }
        let magnitude = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        bytes.append(contentsOf: String(magnitude / 100).utf8)
        let cents = Int(magnitude % 100)
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "0") + UInt8(cents / 10))
        bytes.append(UInt8(ascii: "0") + UInt8(cents % 10))
    }

    /// Already-serialised JSON, written as one value (the caller guarantees it is valid).
    public mutating func raw(_ json: some Sequence<UInt8>) {
        separate()
        bytes.append(contentsOf: json)
    }

    // MARK: - Internals

    private mutating func open(_ bracket: UInt8) {
        separate()
        bytes.append(bracket)
        firstInContainer.append(true)
    }

    private mutating func close(_ bracket: UInt8) {
        _ = firstInContainer.popLast()
        bytes.append(bracket)
    }

    /// Writes the comma before a value or key when it is not the first in its container.
    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard let last = firstInContainer.indices.last else { return }
        if firstInContainer[last] {
            firstInContainer[last] = false
        } else {
            bytes.append(UInt8(ascii: ","))
        }
    }

    private mutating func appendNull() {
        bytes.append(contentsOf: "null".utf8)
    }

    private mutating func appendQuoted(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        JSONWriter.appendEscaped(s.utf8, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Escapes `"`, `\` and control characters; everything else is copied.
    static func appendEscaped(_ utf8: some Sequence<UInt8>, to out: inout [UInt8]) {
        for b in utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0..<0x20:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
    }
}
