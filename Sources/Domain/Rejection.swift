/// Why an input was rejected, in the order the checks run (the first failure is reported).
public enum RejectionReason: String, Sendable, Hashable, CaseIterable {
    case tooLarge = "too_large"
    case malformedJSON = "malformed_json"
    case schemaMismatch = "schema_mismatch"
    case missingField = "missing_field"
    case invalidField = "invalid_field"
    case amountOutOfRange = "amount_out_of_range"
    case periodOutOfRange = "period_out_of_range"
    case keyMismatch = "key_mismatch"
    case unknownProvince = "unknown_province"
    case activitiesMismatch = "activities_mismatch"
    case conflictingRevision = "conflicting_revision"
}

/// A rejected input: the reason, where (JSON Pointer, or nil) and a sentence the provincial
/// operator can act on.
public struct Rejection: Error, Sendable, Hashable {
    public var reason: RejectionReason
    /// JSON Pointer to the offending member ("/executed_vnd"), or nil when it concerns the whole input.
    public var field: String?
    public var detail: String

    public init(reason: RejectionReason, field: String?, detail: String) {
        self.reason = reason
        self.field = field
        self.detail = detail
    }
}
