import Testing
@testable import Domain

/// Per-province input topics: the topic's unit, passed to the decoder as a value, must be the
/// update's province (`key_mismatch`, the contract's check 8, after the key itself).
@Suite struct TopicUnitTests {
    private let base = WireMessage()
    private let key49 = Array("49".utf8)

    @Test func anUpdateOnItsOwnUnitsTopicIsAccepted() {
        let r = Fixtures.decoder.decode(payload: base.bytes, key: key49, topicUnit: "49")
        #expect(r.failure == nil)
        #expect(Fixtures.decoder.decodeFacts(payload: base.bytes, key: key49, topicUnit: "49").failure == nil)
    }

    @Test func aForgedUpdateOnAnotherUnitsTopicIsAKeyMismatch() {
        // Key and province agree ("01"): only the topic tells the forgery apart.
        let forged = base.with("province", #""01""#)
        let r = Fixtures.decoder.decode(payload: forged.bytes, key: Array("01".utf8), topicUnit: "49")
        #expect(r.failure?.reason == .keyMismatch)
        #expect(r.failure?.field == "/province")
        #expect(
            r.failure?.detail == "Báo cáo của tỉnh \"01\" được gửi vào chủ đề (topic) của "
                + "đơn vị \"49\"; mỗi đơn vị chỉ được gửi báo cáo của chính mình, vào "
                + "chủ đề của mình.")
        // The facts path (what the worker runs) rejects it the same way.
        #expect(
            Fixtures.decoder.decodeFacts(payload: forged.bytes, key: Array("01".utf8), topicUnit: "49").failure
                == r.failure)
    }

    @Test func withoutATopicUnitTheSharedTopicsRulesHold() {
        let other = base.with("province", #""01""#)
        #expect(Fixtures.decoder.decode(payload: other.bytes, key: Array("01".utf8), topicUnit: nil).failure == nil)
    }

    @Test func theKeyIsCheckedBeforeTheTopic() {
        let r = Fixtures.decoder.decode(payload: base.bytes, key: Array("48".utf8), topicUnit: "01")
        #expect(
            r.failure?.detail
                == "Khóa bản tin \"48\" khác trường province \"49\"; khóa phải đúng bằng mã tỉnh "
                + "của báo cáo.")
        #expect(Fixtures.decoder.decode(payload: base.bytes, key: nil, topicUnit: "01").failure?.field == nil)
    }

    @Test func earlierChecksComeFirstAndTheRegistryAfter() {
        // Check 7 (period) before check 8 …
        let period = base.with("province", #""01""#).with("period_end", #""2023-01""#)
        #expect(
            Fixtures.decoder.decode(payload: period.bytes, key: Array("01".utf8), topicUnit: "49").failure?.reason
                == .periodOutOfRange)
        // … and check 8 before check 9: an unknown code on another unit's topic is a key mismatch.
        let unknown = base.with("province", #""99""#)
        #expect(
            Fixtures.decoder.decode(payload: unknown.bytes, key: Array("99".utf8), topicUnit: "49").failure?.reason
                == .keyMismatch)
        // On its own topic (a unit not in the registry in force) it reaches check 9.
        #expect(
            Fixtures.decoder.decode(payload: unknown.bytes, key: Array("99".utf8), topicUnit: "99").failure?.reason
                == .unknownProvince)
    }
}
