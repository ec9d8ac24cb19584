import Domain

/// Offline check of a JSONL file of execution updates against the contract: each line is
/// decoded as the worker would (key = the line's `province`), and revision rules are applied
/// within the file, so a `conflicting_revision` shows up too.
public struct FileValidator {
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        public let line: Int
        public let rejection: Rejection

        /// `line 12: invalid_field /executed_vnd — …`
        public var description: String {
            "line \(line): \(rejection.reason.rawValue)\(rejection.field.map { " \($0)" } ?? "") — \(rejection.detail)"
        }
    }

    public struct Counts: Sendable, Equatable {
        public var lines = 0
        public var accepted = 0
        public var duplicates = 0
        public var stale = 0
        public var rejected = 0
    }

    public let decoder: ExecutionUpdateDecoder
    public private(set) var counts = Counts()
    /// The held report per revision key.
    private var held: [RevisionKey: ExecutionUpdate] = [:]

    public init(decoder: ExecutionUpdateDecoder) {
        self.decoder = decoder
    }

    /// Checks one line; returns its rejection, if any. Blank lines are skipped (nil, not counted).
    public mutating func check(line number: Int, bytes: [UInt8]) -> Finding? {
        if InputKey.isBlank(bytes) { return nil }
        counts.lines += 1
        switch decoder.decode(payload: bytes, key: InputKey.of(bytes)) {
        case .failure(let rejection):
            counts.rejected += 1
            return Finding(line: number, rejection: rejection)
        case .success(let update):
            guard let current = held[update.revisionKey] else {
                held[update.revisionKey] = update
                counts.accepted += 1
                return nil
            }
            if update.revision > current.revision {
                held[update.revisionKey] = update
                counts.accepted += 1
            } else if update.revision < current.revision {
                counts.stale += 1
            } else if update == current {
                counts.duplicates += 1
            } else {
                counts.rejected += 1
                return Finding(line: number, rejection: Rejection(
                    reason: .conflictingRevision, field: "/revision",
                    detail: "revision \(update.revision) of \(update.revisionKey) was already sent with other content; send it as revision \(current.revision + 1)"
                ))
            }
            return nil
        }
    }
}
