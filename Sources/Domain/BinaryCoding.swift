/// Varint-based writer: unsigned LEB128, zigzag for signed, length-prefixed strings. The
/// changelog's values and the sequenced log's records are written with it.
public struct BinaryWriter: Sendable {
    public var bytes: [UInt8] = []

    public init() {}

    // Inlinable: stage 1 and 2 (another module) write and read every sequenced record through
    // these, and as calls they took ~4 % of the worker's CPU.
    @inlinable public mutating func byte(_ b: UInt8) { bytes.append(b) }
    @inlinable public mutating func uint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
    @inlinable public mutating func int(_ v: Int64) { uint(Self.zigzag(v)) }
    @inlinable public mutating func u128(_ v: UInt128) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }

    /// Appends what `body` writes into a stack buffer of `capacity` bytes, at once: a record of
    /// many small values costs one capacity check, not one per byte (every sequenced record).
    @inlinable public mutating func append(capacity: Int, _ body: (inout ScratchWriter) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buf in
            var scratch = ScratchWriter(buf)
            body(&scratch)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buf[..<scratch.count]))
        }
    }
    public mutating func string(_ s: String) { uint(UInt64(s.utf8.count)); bytes.append(contentsOf: s.utf8) }
    /// Writes whether `v` is present and returns it; the caller then writes the value.
    mutating func flag<T>(_ v: T?) -> Bool {
        byte(v == nil ? 0 : 1)
        return v != nil
    }
}

/// Writes `BinaryWriter`'s encodings into a buffer of fixed size; traps rather than write past it.
public struct ScratchWriter {
    @usableFromInline let buf: UnsafeMutableBufferPointer<UInt8>
    @usableFromInline var written = 0
    /// Bytes written so far, at the buffer's start.
    @inlinable public var count: Int { written }

    @inlinable public init(_ buf: UnsafeMutableBufferPointer<UInt8>) { self.buf = buf }

    @inlinable public mutating func byte(_ b: UInt8) {
        precondition(written < buf.count, "scratch buffer too small")
        buf[written] = b
        written += 1
    }
    /// Unsigned LEB128, at most 10 bytes.
    @inlinable public mutating func uint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            byte(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        byte(UInt8(v))
    }
    @inlinable public mutating func int(_ v: Int64) { uint(BinaryWriter.zigzag(v)) }
    @inlinable public mutating func u128(_ v: UInt128) {
        withUnsafeBytes(of: v.littleEndian) { for b in $0 { byte(b) } }
    }
}

/// Reads what `BinaryWriter` wrote, from `bytes[position..<end]`; never traps on bad input.
public struct BinaryReader {
    public struct Failure: Error { public let problem: String; @usableFromInline init(_ p: String) { problem = p } }
    @usableFromInline let bytes: [UInt8]
    @inlinable public var position: Int { offset }
    @usableFromInline var offset: Int
    @usableFromInline let end: Int
    public init(_ bytes: [UInt8], range: Range<Int>? = nil) {
        self.bytes = bytes
        offset = range?.lowerBound ?? 0
        end = range?.upperBound ?? bytes.count
        precondition(0 <= offset && offset <= end && end <= bytes.count, "range outside the bytes")
    }
    @inlinable public var atEnd: Bool { offset == end }
    @inlinable public var remaining: Int { end - offset }

    @inlinable public mutating func byte() throws(Failure) -> UInt8 {
        guard offset < end else { throw Failure("truncated") }
        defer { offset += 1 }
        return bytes[offset]
    }
    @inlinable public mutating func uint() throws(Failure) -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw Failure("varint too long") }
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }
    @inlinable public mutating func int() throws(Failure) -> Int64 {
        let u = try uint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }
    @inlinable public mutating func u128() throws(Failure) -> UInt128 {
        guard remaining >= 16 else { throw Failure("truncated") }
        defer { offset += 16 }
        var v: UInt128 = 0
        for i in 0..<16 { v |= UInt128(bytes[offset + i]) << (8 * i) }
        return v
    }
    /// Skips `n` bytes.
    @inlinable public mutating func skip(_ n: Int) throws(Failure) {
        guard n >= 0, n <= remaining else { throw Failure("truncated") }
        offset += n
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
