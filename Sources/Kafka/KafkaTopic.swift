import CKafkaShim

/// A producer's handle for one topic (`KafkaProducer.topic(_:)`), for hot send loops.
public final class KafkaTopic: @unchecked Sendable {
    public let name: String
    let rkt: OpaquePointer
    private let client: KafkaClient  // the handle must not outlive its rd_kafka_t

    init(name: String, rkt: OpaquePointer, client: KafkaClient) {
        self.name = name
        self.rkt = rkt
        self.client = client
    }

    deinit { rd_kafka_topic_destroy(rkt) }
}
