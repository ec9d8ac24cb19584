/// Varint-based writer: unsigned LEB128, zigzag for signed, length-prefixed strings. The
/// changelog's values and the sequenced log's records are written with it.
public struct BinaryWriter: Sendable {
    public var bytes: [UInt8] = []

    public init() {}

    public mutating func byte(_ b: UInt8) { bytes.append(b) }
    public mutating func uint(_ v: UInt64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 10) { b in
            var n = 0
            Self.varint(v, into: b, at: &n)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: b[..<n]))
        }
    }
    public mutating func int(_ v: Int64) { uint(Self.zigzag(v)) }
    public mutating func u128(_ v: UInt128) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }

    /// Writes `v` as unsigned LEB128 (at most 10 bytes) at `at`, advancing it.
    static func varint(_ v: UInt64, into b: UnsafeMutableBufferPointer<UInt8>, at: inout Int) {
        var v = v
        while v >= 0x80 { b[at] = UInt8(truncatingIfNeeded: v) | 0x80; v >>= 7; at += 1 }
        b[at] = UInt8(v)
        at += 1
    }
    public mutating func string(_ s: String) { uint(UInt64(s.utf8.count)); bytes.append(contentsOf: s.utf8) }
    /// Writes whether `v` is present and returns it; the caller then writes the value.
    mutating func flag<T>(_ v: T?) -> Bool {
        byte(v == nil ? 0 : 1)
        return v != nil
    }
}

/// Reads what `BinaryWriter` wrote, from `bytes[position..<end]`; never traps on bad input.
public struct BinaryReader {
    public struct Failure: Error { public let problem: String; init(_ p: String) { problem = p } }
    private let bytes: [UInt8]
    public private(set) var position: Int
    private let end: Int
    public init(_ bytes: [UInt8], range: Range<Int>? = nil) {
        self.bytes = bytes
        position = range?.lowerBound ?? 0
        end = range?.upperBound ?? bytes.count
        precondition(0 <= position && position <= end && end <= bytes.count, "range outside the bytes")
    }
    public var atEnd: Bool { position == end }
    public var remaining: Int { end - position }

    public mutating func byte() throws(Failure) -> UInt8 {
        guard position < end else { throw Failure("truncated") }
        defer { position += 1 }
        return bytes[position]
    }
    public mutating func uint() throws(Failure) -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw Failure("varint too long") }
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }
    public mutating func int() throws(Failure) -> Int64 {
        let u = try uint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }
    public mutating func u128() throws(Failure) -> UInt128 {
        guard remaining >= 16 else { throw Failure("truncated") }
        defer { position += 16 }
        var v: UInt128 = 0
        for i in 0..<16 { v |= UInt128(bytes[position + i]) << (8 * i) }
        return v
    }
    /// Skips `n` bytes.
    public mutating func skip(_ n: Int) throws(Failure) {
        guard n >= 0, n <= remaining else { throw Failure("truncated") }
        position += n
    }
    public mutating func raw(_ n: Int) throws(Failure) -> [UInt8] {
        let start = position
        try skip(n)
        return Array(bytes[start..<position])
    }
    public mutating func string() throws(Failure) -> String {
        let b = try raw(Int(clamping: try uint()))
        guard let s = String(validating: b, as: UTF8.self) else { throw Failure("invalid UTF-8") }
        return s
    }
    /// Reads a presence flag written by `BinaryWriter.flag`.
    mutating func flag() throws(Failure) -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw Failure("bad presence flag")
        }
    }
}
