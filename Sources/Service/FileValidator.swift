import Domain

/// Offline check of a JSONL file of execution updates against the contract: each line is
/// decoded as the worker would (key = the line's `province`), and the Aggregator's revision
/// rules are applied within the file, so a `conflicting_revision` shows up too.
public final class FileValidator {
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        public let line: Int
        public let rejection: Rejection

        /// `line 12: invalid_field /executed_vnd — …`
        public var description: String {
            "line \(line): \(rejection.reason.rawValue)\(rejection.field.map { " \($0)" } ?? "") — "
                + "\(rejection.detail)"
        }
    }

    public struct Counts: Sendable, Equatable {
        public var lines = 0
        public var accepted = 0
        public var duplicates = 0
        public var stale = 0
        public var rejected = 0
        public init() {}
    }

    public let decoder: ExecutionUpdateDecoder
    public private(set) var counts = Counts()
    /// Only `apply` is used: it holds the revisions; no batch is ever ended, so nothing is computed.
    private let aggregator: Aggregator

    public init(configuration: AggregatorConfiguration) {
        decoder = ExecutionUpdateDecoder(registries: configuration.registries)
        aggregator = Aggregator(configuration: configuration)
    }

    /// Checks one line; returns its rejection, if any. Blank lines are skipped (nil, not counted).
    public func check(line number: Int, bytes: [UInt8]) -> Finding? {
        if InputKey.isBlank(bytes) { return nil }
        counts.lines += 1
        switch decoder.decode(payload: bytes, key: InputKey.of(bytes)) {
        case .failure(let rejection):
            counts.rejected += 1
            return Finding(line: number, rejection: rejection)
        case .success(let update):
            switch aggregator.apply(update) {
            case .accepted: counts.accepted += 1
            case .duplicate: counts.duplicates += 1
            case .stale: counts.stale += 1
            case .rejected(let rejection):
                counts.rejected += 1
                return Finding(line: number, rejection: rejection)
            }
            return nil
        }
    }
}
