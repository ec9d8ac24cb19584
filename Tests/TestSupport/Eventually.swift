/// A bounded wait that ran out.
public struct Timeout: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// Checks `condition` until it holds, at most for `limit` — the one bounded wait of the test
/// suites (never a sleep as synchronisation). Between checks it waits `interval`; pass `.zero`
/// when the condition waits by itself (e.g. a consumer poll with a timeout). Throws `Timeout`
/// naming `what`, or whatever `condition` throws (to give up early with a better reason).
public func eventually(
    _ what: String = "condition", within limit: Duration = .seconds(30),
    every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    while true {
        if try await condition() { return }
        guard ContinuousClock.now < deadline else { throw Timeout(description: "\(what) not reached within \(limit)") }
        if interval > .zero { try await Task.sleep(for: interval) }
    }
}
