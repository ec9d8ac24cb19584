/// How the worker's consumer holds its place in the group: session timeout, heartbeat and, on a
/// real cluster, static membership. What a crash costs the stream is mostly this: until the
/// dead member's session times out, its partitions wait.
///
/// - Kafka: static membership (KIP-345) with `group.instance.id` = the worker's instance id
///   (a StatefulSet keeps the pod name): a restarted worker takes its old place at once, without
///   a rebalance, however many incarnations died before it. A session of 10 s (librdkafka: 45 s)
///   bounds the wait when an instance is gone for good; a heartbeat every 3 s leaves three
///   chances to miss one.
/// - Embedded broker (librdkafka 2.0.2's mock): no static membership. Every dead incarnation
///   that had joined stays a member, and the mock makes each rebalance wait for them in turn:
///   a new member's JoinGroup waits (session − 1 s) for the others, the leader election marks
///   every member active again (dead ones too), syncing waits a session for a dead leader, and
///   only then does a dead member expire and start the next round. Three incarnations killed
///   within seconds therefore cost about three sessions: 130 s with librdkafka's 45 s. So the
///   session there is 6 s, heartbeats every second; the mock's broker and worker share a host,
///   so a missed heartbeat is not a network's doing.
enum GroupMembership {
    static let kafkaCluster: [String: String] = ["session.timeout.ms": "10000", "heartbeat.interval.ms": "3000"]
    static let embeddedBroker: [String: String] = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "1000"]

    /// The consumer's membership properties for `kind`; `instanceID` nil: dynamic membership.
    static func properties(_ kind: ClusterProfile.Kind, instanceID: String?) -> [String: String] {
        switch kind {
        case .embeddedBroker:
            return embeddedBroker
        case .kafkaCluster:
            guard let instanceID else { return kafkaCluster }
            return kafkaCluster.merging(["group.instance.id": instanceID]) { $1 }
        }
    }
}
