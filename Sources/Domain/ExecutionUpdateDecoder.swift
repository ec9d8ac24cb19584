/// Decodes and validates one input message against the contract ("Input" and "Rejections").
///
/// The checks run in the contract's order over the whole message and the first failure is
/// reported: size, JSON well-formedness (strict parser, duplicate names at any depth), schema,
/// then every required member's presence, then every member's type and form, then amount
/// ranges, periods, the message key, the registry and finally the activities' sum. Within one
/// step members are checked in the contract's table order (nested members after their parent).
/// `conflicting_revision` needs the held revision and is decided by the aggregation.
public struct ExecutionUpdateDecoder: Sendable {
    /// Largest accepted payload.
    public static let maxPayloadBytes = 65_536
    public static let schemaName = "khuyencong.execution-update.v1"

    /// One reference: a validation run holds it, and copying it must cost one retain, not one
    /// per array of the registries.
    let provinces: KnownProvinces
    public var registries: Registries { provinces.registries }

    public init(registries: Registries) {
        provinces = KnownProvinces(registries)
    }

    /// `payload` nil is a tombstone; `key` nil is an absent message key. The buffers are only
    /// read during the call (they may point into a Kafka batch). `topicUnit`: the unit whose
    /// per-province topic the message came from (nil for the shared topic); its `province`
    /// must be that unit.
    public func decode(
        payload: UnsafeRawBufferPointer?, key: UnsafeRawBufferPointer?,
        topicUnit: String? = nil
    ) -> Result<ExecutionUpdate, Rejection> {
        validate(payload: payload, key: key, topicUnit: topicUnit) { $0.build() }
    }

    /// The same checks; an accepted message's facts (what aggregation needs), built without
    /// the update's strings and arrays.
    public func decodeFacts(
        payload: UnsafeRawBufferPointer?, key: UnsafeRawBufferPointer?,
        topicUnit: String? = nil
    ) -> Result<ReportFacts, Rejection> {
        if let payload,
            let facts = PlainUpdateDecoder.facts(
                payload: payload, key: key, topicUnit: topicUnit, provinces: provinces)
        {
            return .success(facts)
        }
        return validate(payload: payload, key: key, topicUnit: topicUnit) { $0.facts() }
    }

    private func validate<T>(
        payload: UnsafeRawBufferPointer?, key: UnsafeRawBufferPointer?, topicUnit: String?,
        _ accepted: (UpdateValidator) -> T
    ) -> Result<T, Rejection> {
        guard let payload else {
            return .failure(Rejection(reason: .malformedJSON, field: nil, detail: RejectionText.tombstone))
        }
        if payload.count > Self.maxPayloadBytes {
            return .failure(Rejection(reason: .tooLarge, field: nil, detail: RejectionText.tooLarge(payload.count)))
        }
        switch JSONTape.parse(payload) {
        case .failure(let error):
            return .failure(RejectionText.malformed(error, payload: payload))
        case .success(let tape):
            var validator = UpdateValidator(tape: tape, key: key, topicUnit: topicUnit, provinces: provinces)
            do {
                try validator.check()
                return .success(accepted(validator))
            } catch {
                return .failure(error)
            }
        }
    }

    public func decode(
        payload: [UInt8]?, key: [UInt8]?,
        topicUnit: String? = nil
    ) -> Result<ExecutionUpdate, Rejection> {
        Self.withBuffers(payload, key) { decode(payload: $0, key: $1, topicUnit: topicUnit) }
    }

    public func decodeFacts(
        payload: [UInt8]?, key: [UInt8]?,
        topicUnit: String? = nil
    ) -> Result<ReportFacts, Rejection> {
        Self.withBuffers(payload, key) { decodeFacts(payload: $0, key: $1, topicUnit: topicUnit) }
    }

    private static func withBuffers<R>(
        _ payload: [UInt8]?, _ key: [UInt8]?,
        _ body: (UnsafeRawBufferPointer?, UnsafeRawBufferPointer?) -> R
    ) -> R {
        func withOptional<T>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> T) -> T {
            guard let bytes else { return body(nil) }
            return bytes.withUnsafeBytes { body($0) }
        }
        return withOptional(payload) { p in withOptional(key) { k in body(p, k) } }
    }
}

/// The registries, with the province codes "00"…"99" of each as a table, so the hot path needs
/// no hashing.
final class KnownProvinces: Sendable {
    let registries: Registries
    /// The member names, for `PlainUpdateDecoder`.
    let names = MemberNameTables()
    let known2004: [Bool]
    let known2025: [Bool]

    init(_ registries: Registries) {
        self.registries = registries
        func table(_ r: Registry) -> [Bool] {
            var t = [Bool](repeating: false, count: 100)
            for u in r.units where Array(u.code.utf8).withUnsafeBytes(Forms.isProvinceCode) {
                t[Forms.number(u.code.utf8)] = true
            }
            return t
        }
        known2004 = table(registries.r2004)
        known2025 = table(registries.r2025)
    }

    /// Whether `code` is a unit of the registry in force at `period`.
    func isKnown(_ code: Int, at period: YearMonth) -> Bool {
        (RegistryVersion.inForce(at: period) == .v2004 ? known2004 : known2025)[code]
    }
}
