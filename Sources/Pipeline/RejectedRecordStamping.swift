import Domain

extension RejectedRecord {
    /// A `khuyencong.rejected.v1` record (the domain's encoding) for input from `origin`,
    /// stamped with the wall clock.
    static func encodeNow(_ rejection: Rejection, origin: InputOrigin, payload: [UInt8]?) -> [UInt8] {
        RejectedRecord(
            rejection: rejection, topic: origin.topic, partition: origin.partition, offset: origin.offset,
            key: origin.key, payload: payload,
            rejectedAt: RejectedRecord.timestamp(epochMilliseconds: Timestamps.wallMillis())
        ).json()
    }
}
