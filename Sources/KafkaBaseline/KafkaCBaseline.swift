import CKafkaBaseline
import Dispatch
import Kafka

/// Plain-C librdkafka loops (`CKafkaBaseline`) used as the benchmark baseline for the Swift layer.
public enum KafkaCBaseline {
    /// rd_kafka_produce loop (partition i % partitions) + flush, with `properties` as the
    /// producer configuration. Returns the number of messages delivered without error.
    public static func produce(
        properties: [String: String], topic: String, partitions: Int32,
        count: Int, size: Int
    ) async throws(KafkaError) -> Int {
        let conf = ConfBox(try makeConf(properties.sorted { $0.key < $1.key }))
        return try await onOwnThread { () throws(KafkaError) -> Int in
            var errstr = [CChar](repeating: 0, count: 512)
            let n = baseline_produce(conf.pointer, topic, partitions, Int64(count), Int32(size), &errstr, errstr.count)
            if n < 0 { throw KafkaError(code: .fail, message: string(cBuffer: errstr)) }
            return Int(n)
        }
    }

    /// rd_kafka_consume_batch_queue loop over all partitions from the beginning, summing every
    /// payload byte. Returns messages consumed and the byte sum.
    public static func consume(
        properties: [String: String], topic: String, partitions: Int32,
        count: Int
    ) async throws(KafkaError) -> (messages: Int, byteSum: UInt64) {
        let conf = ConfBox(try makeConf(properties.sorted { $0.key < $1.key }))
        return try await onOwnThread { () throws(KafkaError) -> (messages: Int, byteSum: UInt64) in
            var errstr = [CChar](repeating: 0, count: 512)
            var sum: UInt64 = 0
            let n = baseline_consume(conf.pointer, topic, partitions, Int64(count), &sum, &errstr, errstr.count)
            if n < 0 { throw KafkaError(code: .fail, message: string(cBuffer: errstr)) }
            return (Int(n), sum)
        }
    }

    /// The loops block for their whole run: on a thread of their own, not the cooperative pool.
    private static func onOwnThread<T: Sendable>(
        _ body: @escaping @Sendable () throws(KafkaError) -> T
    ) async throws(KafkaError) -> T {
        let result: Result<T, KafkaError> = await withCheckedContinuation { c in
            DispatchQueue(label: "kafka.c-baseline").async {
                c.resume(returning: Result { () throws(KafkaError) -> T in try body() })
            }
        }
        return try result.get()
    }
}

/// A configuration handed to the loop's thread, which takes ownership of it.
private final class ConfBox: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}
