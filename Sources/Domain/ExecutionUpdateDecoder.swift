/// Decodes and validates one input message against the contract.
/// STUB: the interface is fixed; the implementation is being written.
public struct ExecutionUpdateDecoder: Sendable {
    /// Largest accepted payload.
    public static let maxPayloadBytes = 65_536

    public let registries: Registries

    public init(registries: Registries) {
        self.registries = registries
    }

    /// `payload` nil is a tombstone; `key` nil is an absent message key. The buffers are only
    /// read during the call (they may point into a Kafka batch).
    public func decode(payload: UnsafeRawBufferPointer?, key: UnsafeRawBufferPointer?) -> Result<ExecutionUpdate, Rejection> {
        .failure(Rejection(reason: .malformedJSON, field: nil, detail: "not implemented"))
    }

    public func decode(payload: [UInt8]?, key: [UInt8]?) -> Result<ExecutionUpdate, Rejection> {
        func withOptional<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
            guard let bytes else { return body(nil) }
            return bytes.withUnsafeBytes { body($0) }
        }
        return withOptional(payload) { p in withOptional(key) { k in decode(payload: p, key: k) } }
    }
}
