import Domain
@testable import Pipeline
import Testing

@Suite struct SequencedBacklogTests {
    func settings(batch: Int) throws -> WorkerSettings {
        WorkerSettings(
            brokers: "", groupID: "g", inputTopic: "in", summariesTopic: "s", alertsTopic: "a", rejectedTopic: "r",
            guarantee: .exactlyOnce, transactionalID: "t", batchMaxMessages: batch, batchMaxMilliseconds: 20,
            kafkaProperties: [:], registries: try Registries.load(), rules: try AlertRules.bundled())
    }

    /// Two batches are outstanding between batches (one publishing, one just appended): a real
    /// cluster's limit stays above that, whatever the batch size, so steady load never pauses.
    @Test(arguments: [1, 500, 10_000, 20_000])
    func aRealClusterAllowsThreeBatches(batch: Int) throws {
        let limit = ClusterProfile(.kafkaCluster, settings: try settings(batch: batch)).sequencedBacklogLimit
        #expect(limit == 3 * batch)
        #expect(limit > 2 * batch)
    }

    /// The embedded broker keeps ~5 MiB of the sequenced partition: its limit does not grow with the batch.
    @Test func theEmbeddedBrokerKeepsItsWindowAndAnExplicitLimitWins() throws {
        var s = try settings(batch: 20_000)
        #expect(ClusterProfile(.embeddedBroker, settings: s).sequencedBacklogLimit == 16_000)
        s.maxSequencedBacklog = 30_000
        #expect(ClusterProfile(.embeddedBroker, settings: s).sequencedBacklogLimit == 30_000)
        #expect(ClusterProfile(.kafkaCluster, settings: s).sequencedBacklogLimit == 30_000)
    }
}
