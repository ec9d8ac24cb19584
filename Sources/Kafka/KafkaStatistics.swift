import CKafkaShim
import Foundation

extension ConsumerCore {
    /// Event thread: keeps `consumer_lag` per partition from a statistics JSON document.
    func updateLag(fromStatistics json: String) {
        guard let root = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let topics = root["topics"] as? [String: Any]
        else { return }
        var result: [TopicPartition: Int64] = [:]
        for (topic, value) in topics {
            guard let partitions = (value as? [String: Any])?["partitions"] as? [String: Any] else { continue }
            for (id, p) in partitions {
                guard let partition = Int32(id), partition >= 0, let p = p as? [String: Any] else { continue }
                if let lag = Self.lag(p) { result[TopicPartition(topic, partition)] = lag }
            }
        }
        lag.withLock { $0 = result }
    }

    /// Messages not yet handed to the application: last stable (or high) offset minus the
    /// application's position. `consumer_lag` is measured from the committed offset, which a
    /// consumer whose offsets go through a producer's transaction never learns, so it is only the
    /// fallback before the first message arrives.
    static func lag(_ p: [String: Any]) -> Int64? {
        func value(_ name: String) -> Int64? { (p[name] as? NSNumber)?.int64Value }
        let end = value("ls_offset").flatMap { $0 >= 0 ? $0 : nil } ?? value("hi_offset")
        if let end, end >= 0, let position = value("app_offset"), position >= 0 { return max(0, end - position) }
        return value("consumer_lag").flatMap { $0 >= 0 ? $0 : nil }
    }
}
