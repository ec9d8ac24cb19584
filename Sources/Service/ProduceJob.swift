import Pipeline

/// Sends a JSONL file of execution updates, one message per non-blank line, keyed by the
/// line's `province` (no key when there is none: the worker then rejects the line visibly).
public enum ProduceJob {
    public struct Summary: Sendable, Equatable {
        public var sent = 0
        public var withoutKey = 0
        public var blankSkipped = 0

        public init(sent: Int = 0, withoutKey: Int = 0, blankSkipped: Int = 0) {
            self.sent = sent
            self.withoutKey = withoutKey
            self.blankSkipped = blankSkipped
        }
    }

    /// `send` hands one message to the producer; `progress(sent, total)` is called at most once
    /// a second while sending. Waiting for delivery is the caller's (the producer's flush).
    public static func run(
        path: String,
        send: (_ key: [UInt8]?, _ value: [UInt8]) async throws -> Void,
        progress: (_ sent: Int, _ total: Int) -> Void
    ) async throws -> Summary {
        let total = try LineReader.countLines(path: path)
        var summary = Summary()
        let clock = ContinuousClock()
        var lastReport = clock.now
        for (_, line) in try LineReader(path: path) {
            if InputKey.isBlank(line) {
                summary.blankSkipped += 1
                continue
            }
            let key = InputKey.of(line)
            if key == nil { summary.withoutKey += 1 }
            try await send(key, line)
            summary.sent += 1
            if summary.sent % 1_000 == 0, clock.now - lastReport >= .seconds(1) {
                lastReport = clock.now
                progress(summary.sent, total - summary.blankSkipped)
            }
        }
        return summary
    }

    /// The topic a message with `key` goes to: the shared topic, or its unit's topic when the key
    /// is a two-digit code; nil when there is none (the message cannot be routed).
    public static func topic(for key: [UInt8]?, in inputs: InputTopics) -> String? {
        guard inputs.layout == .perProvince else { return inputs.name }
        guard let key, key.count == 2, key.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return inputs.topic(ofUnit: String(decoding: key, as: UTF8.self))
    }

    /// `sent 120000/1000000 (12%)`
    public static func progressLine(sent: Int, total: Int) -> String {
        "sent \(sent)/\(total) (\(total > 0 ? sent * 100 / total : 100)%)"
    }
}
