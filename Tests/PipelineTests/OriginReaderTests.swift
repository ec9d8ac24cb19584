import Kafka
@testable import Pipeline
import Testing

@Suite struct OriginReaderTests {
    /// The bytes at each origin, in the order asked; nil for an offset the input topic no longer
    /// holds (its head pushed out of the embedded broker's window) or does not hold yet.
    @Test func readsInputBackByOffsetAndSaysWhenItIsGone() async throws {
        let d = try Deployment("origins", inputPartitions: 2)
        let values = try await d.produceToEveryPartition { p in Array("{\"partition\":\(p)}".utf8) }
        let reader = OriginReader(settings: d.base, properties: WorkerSettings.clientTuning, logger: quietLogger)
        func origin(_ partition: Int32, _ offset: Int64) -> InputOrigin {
            InputOrigin(topic: d.base.inputTopic, partition: partition, offset: offset, key: nil, timestampMillis: 0)
        }
        let read = try await reader.read([origin(1, 0), origin(0, 0), origin(0, 1)])
        #expect(read == [values[1], values[0], nil])

        let partition = TopicPartition(d.base.inputTopic, 0)
        let logStart = try await BrokerWindowTests().pushHeadOut(
            d, partition, value: Array(repeating: 0x20, count: 200))
        try #require(logStart > 0)
        #expect(try await reader.read([origin(0, 0), origin(1, 0)]) == [nil, values[1]])
    }
}
