/// The top-level members of a published summary that index it (`region`, `fiscal_year`,
/// `period_end`) and order its repeats (`revision`), read with the strict parser: a reader that
/// holds the latest summary per key needs these for every record, and the rest only for the
/// few it shows. The rest is validated but gets no tape (`membersOnly`): the worker's own read
/// side parsed every summary it published, ~10 % of an at-least-once worker's CPU.
public struct SummaryHeader: Sendable, Equatable {
    public var region: String
    public var fiscalYear: Int
    public var periodEnd: String
    public var revision: Int64?

    public init(region: String, fiscalYear: Int, periodEnd: String, revision: Int64?) {
        self.region = region
        self.fiscalYear = fiscalYear
        self.periodEnd = periodEnd
        self.revision = revision
    }

    /// The header of `bytes`, or what is wrong with them: not JSON, not an object, or a
    /// missing or mistyped member.
    public static func read(_ bytes: [UInt8]) -> Result<SummaryHeader, HeaderError> {
        bytes.withUnsafeBytes { p in
            let tape: JSONTape
            switch JSONTape.parse(p, membersOnly: true) {
            case .success(let t): tape = t
            case .failure(let e): return .failure(HeaderError(description: "not JSON (byte \(e.offset))"))
            }
            guard tape.nodes.first?.kind == .object else {
                return .failure(HeaderError(description: "not a JSON object"))
            }
            var region: String?
            var year: Int64?
            var periodEnd: String?
            var revision: Int64?
            var mistyped: String?
            tape.forEachChild(0) { k, v in
                let node = tape.nodes[v]
                let isInteger = node.kind == .number && node.flag
                if tape.stringEquals(k, Self.regionName) {
                    if node.kind == .string { region = tape.string(v) } else { mistyped = "region" }
                } else if tape.stringEquals(k, Self.yearName) {
                    if isInteger { year = tape.integerValue(v) } else { mistyped = "fiscal_year" }
                } else if tape.stringEquals(k, Self.periodName) {
                    if node.kind == .string { periodEnd = tape.string(v) } else { mistyped = "period_end" }
                } else if tape.stringEquals(k, Self.revisionName) {
                    if isInteger {
                        revision = tape.integerValue(v)
                    } else if node.kind != .null {
                        mistyped = "revision"
                    }
                }
            }
            if let mistyped { return .failure(HeaderError(description: "\(mistyped) has the wrong type")) }
            guard let region, let year, let periodEnd, let fiscalYear = Int(exactly: year) else {
                return .failure(HeaderError(description: "region, fiscal_year or period_end is missing"))
            }
            return .success(
                SummaryHeader(region: region, fiscalYear: fiscalYear, periodEnd: periodEnd, revision: revision))
        }
    }

    public struct HeaderError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    private static let regionName = Array("region".utf8)
    private static let yearName = Array("fiscal_year".utf8)
    private static let periodName = Array("period_end".utf8)
    private static let revisionName = Array("revision".utf8)
}
