/// What must hold for every input, whatever its bytes: checked by the libFuzzer target
/// (`Sources/FuzzDecoder`, `make fuzz`) and by the test that replays its corpus.
///
/// A fuzz input is the message key, a NUL byte, then the payload; an input with no NUL in its
/// first 8 bytes is all payload, sent with key "49" (JSON text never holds a raw NUL, so the two
/// cannot be confused for a payload the decoder could accept).
public enum DecoderInvariants {
    /// Most bytes of a rejection's `detail`; its fixed sentences are at most about 400 bytes and
    /// every quoted value is cut (see `RejectionText.quoteLimit`).
    public static let maxDetailBytes = 640
    /// Most bytes of a rejection's `field`: a quoted pointer and a cut mark.
    public static let maxFieldBytes = RejectionText.quoteLimit + 3

    public static func split(_ input: [UInt8]) -> (key: [UInt8]?, payload: [UInt8]) {
        guard let nul = input.prefix(8).firstIndex(of: 0) else { return (Array("49".utf8), input) }
        return (Array(input[..<nul]), Array(input[(nul + 1)...]))
    }

    /// Every broken invariant, as sentences (empty when all hold).
    public static func violations(_ input: [UInt8], decoder: ExecutionUpdateDecoder) -> [String] {
        let (key, payload) = split(input)
        var problems: [String] = []
        let whole = decoder.decode(payload: payload, key: key)
        let facts = decoder.decodeFacts(payload: payload, key: key)
        switch (whole, facts) {
        case (.success(let update), .success(let f)):
            if f != ReportFacts(update) { problems.append("decodeFacts differs from decode: \(f) vs \(update)") }
            if payload.count > ExecutionUpdateDecoder.maxPayloadBytes {
                problems.append("accepted \(payload.count) bytes")
            }
            // The canonical form of an accepted update is accepted again, as the same update.
            let again = decoder.decode(payload: update.canonicalJSON(), key: Array(update.province.utf8))
            if case .success(let u) = again, u == update {
            } else {
                problems.append("canonical JSON does not decode to the same update: \(again)")
            }
        case (.failure(let r), .failure(let r2)):
            if r != r2 { problems.append("decodeFacts rejects differently: \(r2) vs \(r)") }
            problems += rejectionViolations(r, key: key, payload: payload)
        default:
            problems.append("decode and decodeFacts disagree: \(whole) vs \(facts)")
        }
        return problems
    }

    /// A rejection quotes little of the input and its record is valid JSON.
    static func rejectionViolations(_ r: Rejection, key: [UInt8]?, payload: [UInt8]) -> [String] {
        var problems: [String] = []
        if r.detail.utf8.count > maxDetailBytes {
            problems.append("detail has \(r.detail.utf8.count) bytes: \(r.detail.prefix(200))")
        }
        if let field = r.field {
            if field.utf8.count > maxFieldBytes {
                problems.append("field has \(field.utf8.count) bytes: \(field.prefix(200))")
            }
            if !isPointer(Array(field.utf8)) { problems.append("field is no JSON Pointer: \(field)") }
        }
        if r.reason == .tooLarge, payload.count <= ExecutionUpdateDecoder.maxPayloadBytes {
            problems.append("too_large at \(payload.count) bytes")
        }
        let record = RejectedRecord(
            rejection: r, topic: "fuzz", partition: 0, offset: 0, key: key, payload: payload,
            rejectedAt: "2026-01-01T00:00:00Z"
        ).json()
        let parsed = record.withUnsafeBytes { p -> Bool in
            if case .success = JSONTape.parse(p) { true } else { false }
        }
        if !parsed { problems.append("the rejected record is not valid JSON") }
        return problems
    }

    /// RFC 6901 form: empty, or tokens each starting with "/", "~" only as "~0" or "~1".
    static func isPointer(_ p: [UInt8]) -> Bool {
        guard let first = p.first else { return true }
        guard first == UInt8(ascii: "/") else { return false }
        for (i, b) in p.enumerated() where b == UInt8(ascii: "~") {
            guard i + 1 < p.count, p[i + 1] == UInt8(ascii: "0") || p[i + 1] == UInt8(ascii: "1") else { return false }
        }
        return true
    }
}
