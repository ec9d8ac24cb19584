import CKafkaShim
import Dispatch
import Glibc
import Logging

/// An in-process Kafka cluster (librdkafka's mock cluster) on loopback, for tests, the demo and
/// benchmarks. Known limits: a new group's first join waits ~3 s (share groups/brokers across
/// related tests); only about the last 5 MiB of each partition are kept; aborted transactions
/// stay visible to read_committed consumers; producers are never fenced unless errors are
/// injected; offsets sent in a transaction (`sendOffsetsToTransaction`) are NOT stored — commit
/// them with `KafkaConsumer.commit` after `commitTransaction` too; CreateTopics is not supported
/// (use `createTopic`); topic configs (cleanup.policy, …) are ignored.
public final class EmbeddedBroker: Sendable {
    private let host: KafkaClient
    private let cluster: MockCluster
    /// Comma-separated `host:port` list for `bootstrap.servers`.
    public let bootstrapServers: String
    /// Broker ids are 1...brokerCount.
    public let brokerCount: Int

    /// Starts `brokers` brokers on loopback.
    public init(brokers: Int = 3, logger: Logger = Logger(label: "kafka.embedded-broker")) throws(KafkaError) {
        let conf = try makeConf([("client.id", "embedded-broker-host"), ("log_level", "4")])
        host = try KafkaClient(RD_KAFKA_PRODUCER, conf: conf, logger: logger, label: "embedded-broker")
        host.start()
        guard let mcluster = rd_kafka_mock_cluster_new(host.rk, Int32(brokers)) else {
            host.shutdownDetached()
            throw KafkaError(RD_KAFKA_RESP_ERR__FAIL, message: "could not start the embedded broker")
        }
        cluster = MockCluster(mcluster)
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(mcluster))
        brokerCount = brokers
        Self.disableNagle(
            ports: Set(
                bootstrapServers.split(separator: ",").compactMap {
                    $0.split(separator: ":").last.flatMap { UInt16($0) }
                }))
    }

    /// The mock leaves Nagle's algorithm on for its connections: an answer written while the
    /// previous one is unacknowledged waits for the client's delayed ACK (40 ms), so a client with
    /// several requests in flight (librdkafka's default) waited up to hundreds of milliseconds per
    /// produce. Linux gives accepted sockets the listening socket's TCP_NODELAY, and the listening
    /// sockets are in this process: set it there, before anyone connects.
    private static func disableNagle(ports: Set<UInt16>) {
        for fd in openDescriptors() where ports.contains(listeningPort(fd) ?? 0) {
            var on: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// This process's open file descriptors.
    static func openDescriptors() -> [Int32] {
        guard let dir = opendir("/proc/self/fd") else { return [] }
        defer { closedir(dir) }
        var fds: [Int32] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let fd = Int32(name) { fds.append(fd) }
        }
        return fds
    }

    /// The local port of a listening IPv4 socket; nil for any other descriptor.
    static func listeningPort(_ fd: Int32) -> UInt16? {
        var listening: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0, listening == 1 else { return nil }
        return localPort(fd)
    }

    /// The local port of an IPv4 socket.
    static func localPort(_ fd: Int32) -> UInt16? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0, address.sin_family == sa_family_t(AF_INET) else { return nil }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Whether a cluster id (`KafkaConsumer.clusterID`) is an embedded broker's: librdkafka
    /// names a mock cluster `mockCluster<hex>`. Lets a worker apply the mock's limits only there.
    public static func isEmbedded(clusterID: String) -> Bool { clusterID.hasPrefix("mockCluster") }

    deinit {
        // Joins the mock's thread and stops the host's: not on the releasing thread (see KafkaClient.deinit).
        let cluster = cluster, host = host
        DispatchQueue(label: "kafka.embedded-broker.teardown").async {
            rd_kafka_mock_cluster_destroy(cluster.pointer)
            host.shutdown()
        }
    }

    /// Creates `name` with `partitions` partitions (replication defaults to min(3, brokers)).
    /// `configs` are accepted for symmetry with `KafkaAdmin` and ignored by the mock.
    public func createTopic(
        _ name: String, partitions: Int32, replicationFactor: Int32? = nil,
        configs: [String: String] = [:]
    ) throws(KafkaError) {
        let rf = replicationFactor ?? Int32(min(3, brokerCount))
        try KafkaError.check(rd_kafka_mock_topic_create(cluster.pointer, name, partitions, rf))
    }

    /// Takes broker `id` down (connections closed, requests refused) until `setBrokerUp`.
    public func setBrokerDown(_ id: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_broker_set_down(cluster.pointer, id))
    }

    public func setBrokerUp(_ id: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_broker_set_up(cluster.pointer, id))
    }

    /// Adds a round-trip delay to every request to broker `id`.
    public func setRoundTripTime(broker id: Int32, milliseconds: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_broker_set_rtt(cluster.pointer, id, milliseconds))
    }

    /// The next requests of `api` (to any broker) fail with `errors`, one each, in order.
    public func pushRequestErrors(_ api: KafkaAPIKey, _ errors: [KafkaErrorCode]) {
        let codes = errors.map(\.c)
        codes.withUnsafeBufferPointer {
            rd_kafka_mock_push_request_errors_array(cluster.pointer, api.rawValue, $0.count, $0.baseAddress)
        }
    }

    /// The next request of `api` to broker `id` fails with `error` after `roundTripMs`.
    public func pushRequestError(broker id: Int32, _ api: KafkaAPIKey, _ error: KafkaErrorCode, roundTripMs: Int32 = 0)
        throws(KafkaError)
    {
        try KafkaError.check(
            shim_mock_broker_push_request_error(cluster.pointer, id, api.rawValue, error.c, roundTripMs))
    }

    /// Drops the errors still queued for `api`.
    public func clearRequestErrors(_ api: KafkaAPIKey) {
        rd_kafka_mock_clear_request_errors(cluster.pointer, api.rawValue)
    }

    /// Makes broker `id` the leader of a partition.
    public func setPartitionLeader(topic: String, partition: Int32, broker id: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_partition_set_leader(cluster.pointer, topic, partition, id))
    }

    /// Makes broker `id` the coordinator for a group (`type` "group") or transactional id ("transaction").
    public func setCoordinator(type: String, key: String, broker id: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_coordinator_set(cluster.pointer, type, key, id))
    }
}

private final class MockCluster: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}
