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
        #expect(limit == BacklogLimit(records: 3 * batch, bytes: nil))
        #expect(!limit.isExceeded(by: backlog(records: 2 * batch, bytes: 1 << 40)))
        #expect(limit.isExceeded(by: backlog(records: 3 * batch + 1, bytes: 0)))
    }

    /// The embedded broker keeps ~5 MiB of the sequenced partition, in bytes: its limit does not
    /// grow with the batch, and counts bytes, not records.
    @Test func theEmbeddedBrokerKeepsItsWindowAndAnExplicitLimitWins() throws {
        var s = try settings(batch: 20_000)
        let window = ClusterProfile(.embeddedBroker, settings: s).sequencedBacklogLimit
        #expect(window == BacklogLimit(records: nil, bytes: 2_621_440))
        #expect(!window.isExceeded(by: backlog(records: 1_000_000, bytes: 2_621_440)))
        #expect(window.isExceeded(by: backlog(records: 1, bytes: 2_621_441)))
        s.maxSequencedBacklog = 30_000
        #expect(ClusterProfile(.embeddedBroker, settings: s).sequencedBacklogLimit == BacklogLimit(records: 30_000))
        #expect(ClusterProfile(.kafkaCluster, settings: s).sequencedBacklogLimit == BacklogLimit(records: 30_000))
        s.maxSequencedBacklogBytes = 1_000
        #expect(
            ClusterProfile(.embeddedBroker, settings: s).sequencedBacklogLimit
                == BacklogLimit(records: 30_000, bytes: 1_000))
    }

    /// Paused above a limit, resumed only under half of every limit.
    @Test func resumesUnderHalfOfEveryLimit() {
        let limit = BacklogLimit(records: 100, bytes: 1_000)
        #expect(limit.isExceeded(by: backlog(records: 101, bytes: 0)))
        #expect(limit.isExceeded(by: backlog(records: 0, bytes: 1_001)))
        #expect(!limit.isCleared(by: backlog(records: 50, bytes: 501)))
        #expect(!limit.isCleared(by: backlog(records: 51, bytes: 500)))
        #expect(limit.isCleared(by: backlog(records: 50, bytes: 500)))
        #expect(BacklogLimit().isCleared(by: backlog(records: 1 << 40, bytes: 1 << 40)))
        #expect(!BacklogLimit().isExceeded(by: backlog(records: 1 << 40, bytes: 1 << 40)))
    }

    func backlog(records: Int, bytes: Int) -> SequencedBacklog {
        var b = SequencedBacklog()
        b.record(appended: records, appendedBytes: bytes, read: 0, readBytes: 0)
        return b
    }
}
