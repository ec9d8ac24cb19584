@testable import Pipeline
import Testing

/// Static membership only where the broker implements it; a session chosen for the service.
@Suite struct GroupMembershipTests {
    @Test func aRealClusterGetsStaticMembershipUnderTheInstanceID() {
        let properties = GroupMembership.properties(.kafkaCluster, instanceID: "khuyencong-worker-0")
        #expect(properties["group.instance.id"] == "khuyencong-worker-0")
        #expect(properties["session.timeout.ms"] == "10000")
        #expect(properties["heartbeat.interval.ms"] == "3000")
        #expect(GroupMembership.properties(.kafkaCluster, instanceID: nil)["group.instance.id"] == nil)
    }

    @Test func theEmbeddedBrokerGetsAShortSessionAndNoInstanceID() {
        let properties = GroupMembership.properties(.embeddedBroker, instanceID: "w")
        #expect(properties["group.instance.id"] == nil, "librdkafka 2.0.2's mock does not implement it")
        #expect(properties["session.timeout.ms"] == "6000")
        #expect(properties["heartbeat.interval.ms"] == "1000")
    }
}
