/// A rejected input as published on `khuyencong.rejected.v1` (keyed by the input's key).
public struct RejectedRecord: Sendable, Hashable {
    public static let schemaName = "khuyencong.rejected.v1"

    public var rejection: Rejection
    /// Where the input was read.
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The input's message key, nil when absent.
    public var key: [UInt8]?
    /// The input's value as received, nil for a tombstone.
    public var payload: [UInt8]?
    /// RFC 3339 UTC, given by the caller (see `RejectedRecord.timestamp(epochMilliseconds:)`).
    public var rejectedAt: String

    public init(
        rejection: Rejection, topic: String, partition: Int32, offset: Int64,
        key: [UInt8]?, payload: [UInt8]?, rejectedAt: String
    ) {
        self.rejection = rejection
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.payload = payload
        self.rejectedAt = rejectedAt
    }

    /// True when only the first 65,536 bytes of the payload are carried (too_large).
    public var payloadTruncated: Bool { (payload?.count ?? 0) > ExecutionUpdateDecoder.maxPayloadBytes }

    /// The record's JSON: members in a fixed order, `payload_base64` null for a tombstone, and
    /// `key_base64` added only when the key is not valid UTF-8 (`key` then shows it with U+FFFD).
    public func json() -> [UInt8] {
        var w = JSONWriter(capacity: 512 + (payload?.count ?? 0) * 4 / 3)
        w.beginObject()
        w.key("schema"); w.string(Self.schemaName)
        w.key("reason"); w.string(rejection.reason.rawValue)
        w.key("field"); w.string(rejection.field)
        w.key("detail"); w.string(rejection.detail)
        w.key("topic"); w.string(topic)
        w.key("partition"); w.int(partition)
        w.key("offset"); w.int(offset)
        w.key("key"); w.string(key.map { String(decoding: $0, as: UTF8.self) })
        if let key, !key.withUnsafeBytes({ JSONTape.firstInvalidUTF8($0) == nil }) {
            w.key("key_base64"); w.string(Base64.encode(key))
        }
        w.key("payload_base64");
        w.string(payload.map { Base64.encode($0.prefix(ExecutionUpdateDecoder.maxPayloadBytes)) })
        w.key("payload_truncated"); w.bool(payloadTruncated)
        w.key("rejected_at"); w.string(rejectedAt)
        w.endObject()
        return w.bytes
    }

    /// RFC 3339 UTC with milliseconds, e.g. `2026-11-21T19:57:03.042Z`.
    public static func timestamp(epochMilliseconds ms: Int64) -> String {
        let days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
        let msOfDay = ms - days * 86_400_000
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(msOfDay / 3_600_000, 2)):"
            + "\(pad(msOfDay / 60_000 % 60, 2)):\(pad(msOfDay / 1000 % 60, 2)).\(pad(msOfDay % 1000, 3))Z"
    }
}

/// Standard base64 (RFC 4648, with padding).
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var it = bytes.makeIterator()
        while let a = it.next() {
            let b = it.next(), c = it.next()
            let n = UInt32(a) << 16 | UInt32(b ?? 0) << 8 | UInt32(c ?? 0)
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(b == nil ? UInt8(ascii: "=") : alphabet[Int(n >> 6 & 63)])
            out.append(c == nil ? UInt8(ascii: "=") : alphabet[Int(n & 63)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
