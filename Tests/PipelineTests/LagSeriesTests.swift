import Kafka
@testable import Pipeline
import Testing

/// Lag series of partitions a worker no longer owns are removed, not left at their last value.
@Suite struct LagSeriesTests {
    @Test func onlyOwnedPartitionsKeepALagSeries() {
        let metrics = PipelineMetrics()
        for p in Int32(0)..<3 { metrics.lag(topic: "in", partition: p, value: 5) }
        metrics.removeLag(TopicPartition("in", 0))
        #expect(metrics.lagPartitions == [TopicPartition("in", 1), TopicPartition("in", 2)])
        metrics.keepLag(only: [TopicPartition("in", 2)])
        #expect(metrics.lagPartitions == [TopicPartition("in", 2)])
    }
}
