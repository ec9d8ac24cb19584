import Synchronization

/// Decides which broker-connection errors are worth a warning. librdkafka reports one outage
/// many times: per client (producer, consumer, changelog reader, admin), per broker and per
/// logical coordinator connection, and again on each reconnect attempt. The first report for a
/// broker address (or of all brokers down) in `window` is a warning; the rest go to debug.
enum BrokerOutageLog {
    static let window = Duration.seconds(60)
    private static let lastWarned = Mutex<[String: ContinuousClock.Instant]>([:])

    /// True when `message` (an error event's text of code `name`) should be logged as a warning.
    static func shouldWarn(code name: String, message: String, now: ContinuousClock.Instant = .now) -> Bool {
        guard let key = outageKey(code: name, message: message) else { return true }
        return lastWarned.withLock { last in
            if let previous = last[key], now - previous < window { return false }
            last[key] = now
            return true
        }
    }

    /// "127.0.0.1:9092" for a transport error about that broker (also through a coordinator
    /// handle: "GroupCoordinator: 127.0.0.1:9092: …"), "all" for all brokers down; nil otherwise.
    static func outageKey(code name: String, message: String) -> String? {
        switch name {
        case "_ALL_BROKERS_DOWN": return "all"
        case "_TRANSPORT", "_RESOLVE":
            var rest = Substring(message)
            if let colon = rest.range(of: ": "), rest[..<colon.lowerBound].hasSuffix("Coordinator") {
                rest = rest[colon.upperBound...]
            }
            guard let end = rest.range(of: ": ") else { return nil }
            return String(rest[..<end.lowerBound].prefix { $0 != "/" })
        default: return nil
        }
    }
}
