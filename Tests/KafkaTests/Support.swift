import Kafka
import Logging
import Synchronization
import TestSupport

/// One embedded cluster for the whole suite (the mock's first group join costs ~3 s; share it).
enum Shared {
    static let broker: Result<EmbeddedBroker, KafkaError> = Result { () throws(KafkaError) in
        try EmbeddedBroker(brokers: 3)
    }
    static let counter = Atomic<Int>(0)
}

func sharedBroker() throws -> EmbeddedBroker { try Shared.broker.get() }

/// A name unique within this test run.
func unique(_ prefix: String) -> String {
    "\(prefix)-\(Shared.counter.add(1, ordering: .relaxed).newValue)"
}

/// Tests provoke broker errors on purpose: keep their logs out of the output.
let quietLogger = Logger(label: "kafka.test", factory: { _ in SwiftLogNoOpLogHandler() })

func producer(
    _ broker: EmbeddedBroker, transactionalID: String? = nil,
    configure: (inout KafkaProducerConfiguration) -> Void = { _ in }
) throws -> KafkaProducer {
    var config = KafkaProducerConfiguration(bootstrapServers: broker.bootstrapServers)
    config.transactionalID = transactionalID
    configure(&config)
    return try KafkaProducer(configuration: config, logger: quietLogger)
}

func consumer(
    _ broker: EmbeddedBroker, group: String, topics: [String],
    configure: (inout KafkaConsumerConfiguration) -> Void = { _ in }
) throws -> KafkaConsumer {
    var config = KafkaConsumerConfiguration(bootstrapServers: broker.bootstrapServers, groupID: group)
    config.sessionTimeoutMs = 6000
    // The mock waits session − 1 s for members to rejoin a rebalance, and a member learns of one
    // at its next heartbeat (3 s by default): beat often, or a loaded machine drops members.
    config.properties["heartbeat.interval.ms"] = "500"
    configure(&config)
    let consumer = try KafkaConsumer(configuration: config, logger: quietLogger)
    if !topics.isEmpty { try consumer.subscribe(topics: topics) }  // none: the test assigns
    return consumer
}

/// Bound of the waits on a consumer group: generous, since a loaded 2-core machine running the
/// whole suite in parallel can take tens of seconds to settle a group on the embedded broker.
let groupWaitLimit: Duration = .seconds(90)

/// Consumes owned copies until `count` messages arrived (bounded), committing as it goes.
func consume(_ consumer: KafkaConsumer, count: Int, commit: Bool = true, limit: Duration = groupWaitLimit) async throws
    -> [KafkaMessage]
{
    var messages: [KafkaMessage] = []
    try await eventually("\(count) messages", within: limit, every: .zero) {
        let batch = try await consumer.poll(timeout: .milliseconds(100))
        messages += batch.map { $0.owned() }
        if commit { try await consumer.commit(batch.nextOffsets) }
        return messages.count >= count
    }
    return messages
}

extension Array where Element == UInt8 {
    init(_ string: String) { self = Array(string.utf8) }
}
