import Domain

/// `khuyencong.rejected.v1` records (the domain's encoding), stamped with the wall clock.
enum RejectedRecords {
    static func encode(_ rejection: Rejection, origin: InputOrigin, payload: [UInt8]?) -> [UInt8] {
        RejectedRecord(rejection: rejection, topic: origin.topic, partition: origin.partition, offset: origin.offset,
                       key: origin.key, payload: payload,
                       rejectedAt: RejectedRecord.timestamp(epochMilliseconds: Timestamps.wallMillis())).json()
    }
}
