import CKafkaShim
import Foundation

extension ConsumerCore {
    /// Event thread: keeps `consumer_lag` per partition from a statistics JSON document.
    func updateLag(fromStatistics json: String) {
        guard let root = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let topics = root["topics"] as? [String: Any] else { return }
        var result: [TopicPartition: Int64] = [:]
        for (topic, value) in topics {
            guard let partitions = (value as? [String: Any])?["partitions"] as? [String: Any] else { continue }
            for (id, p) in partitions {
                guard let partition = Int32(id), partition >= 0,
                      let lag = ((p as? [String: Any])?["consumer_lag"] as? NSNumber)?.int64Value, lag >= 0 else { continue }
                result[TopicPartition(topic, partition)] = lag
            }
        }
        lag.withLock { $0 = result }
    }
}
