import Domain
import Foundation

/// `khuyencong.rejected.v1` records.
enum RejectedRecords {
    static func encode(_ rejection: Rejection, origin: InputOrigin, payload: [UInt8]?, rejectedAt: String) -> [UInt8] {
        let truncated = (payload?.count ?? 0) > ExecutionUpdateDecoder.maxPayloadBytes
        let kept = payload.map { truncated ? Array($0.prefix(ExecutionUpdateDecoder.maxPayloadBytes)) : $0 }
        var w = JSONWriter(capacity: 256 + (kept?.count ?? 0) * 4 / 3)
        w.beginObject()
        w.key("schema"); w.string("khuyencong.rejected.v1")
        w.key("reason"); w.string(rejection.reason.rawValue)
        w.key("field"); w.string(rejection.field)
        w.key("detail"); w.string(rejection.detail)
        w.key("topic"); w.string(origin.topic)
        w.key("partition"); w.int(origin.partition)
        w.key("offset"); w.int(origin.offset)
        w.key("key"); w.string(origin.key.map { String(decoding: $0, as: UTF8.self) })
        w.key("payload_base64"); w.string(kept.map { Data($0).base64EncodedString() })
        if truncated { w.key("payload_truncated"); w.bool(true) }
        w.key("rejected_at"); w.string(rejectedAt)
        w.endObject()
        return w.bytes
    }
}
