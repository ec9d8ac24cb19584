import CKafkaShim
#if canImport(Glibc)
import Glibc
#endif

/// A property (or combination of properties) librdkafka refuses, found before any client runs.
public struct KafkaPropertyRefusal: Error, Sendable, Equatable {
    /// The refused property; nil when only the combination is refused, at client creation.
    public let property: String?
    /// librdkafka's own explanation (may quote the value: redact it before printing).
    public let message: String
}

/// librdkafka's checks of a configuration, run up front so that a configuration error ends the
/// program at once instead of a client-creation retry loop.
public enum KafkaPropertyCheck {
    /// librdkafka's version string, e.g. `2.0.2`.
    public static var librdkafkaVersion: String { String(cString: rd_kafka_version_str()) }

    /// Every global and topic property name librdkafka knows, from its own property table
    /// (`rd_kafka_conf_properties_show`, the only place it lists them).
    public static let propertyNames: [String] = {
        var buffer: UnsafeMutablePointer<CChar>?
        var size = 0
        guard let stream = open_memstream(&buffer, &size) else { return [] }
        rd_kafka_conf_properties_show(stream)
        fclose(stream)
        defer { free(buffer) }
        guard let buffer else { return [] }
        let table = String(cString: buffer)
        var names: [String] = []
        // Table rows start with the property name; headings, the header row and rules do not.
        for line in table.split(separator: "\n") {
            guard let first = line.split(separator: " ", maxSplits: 1).first, first != "Property",
                first.first?.isLowercase == true,
                first.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "." || $0 == "_" })
            else { continue }
            names.append(String(first))
        }
        return Array(Set(names)).sorted()
    }()

    /// Sets every property on a scratch configuration, then creates and destroys a client of
    /// `type` from it without serving it (no broker need answer). Throws the first refusal.
    static func check(_ properties: [(String, String)], consumer: Bool) throws(KafkaPropertyRefusal) {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaPropertyRefusal(property: nil, message: "rd_kafka_conf_new failed")
        }
        // Logs stay queued and are dropped with the client: none reaches standard error.
        for (key, value) in properties + [("log.queue", "true")] {
            var errstr = [CChar](repeating: 0, count: 512)
            if rd_kafka_conf_set(conf, key, value, &errstr, errstr.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaPropertyRefusal(property: key, message: string(cBuffer: errstr))
            }
        }
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, &errstr, errstr.count)
        else {
            rd_kafka_conf_destroy(conf)
            throw KafkaPropertyRefusal(property: nil, message: string(cBuffer: errstr))
        }
        rd_kafka_destroy_flags(rk, Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE))
    }
}

extension KafkaProducerConfiguration {
    /// What `KafkaProducer(configuration:)` would refuse, without connecting.
    public func check() throws(KafkaPropertyRefusal) {
        try KafkaPropertyCheck.check(librdkafkaProperties, consumer: false)
        for (topic, properties) in topicProperties.sorted(by: { $0.key < $1.key }) {
            for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
                do throws(KafkaError) { rd_kafka_topic_conf_destroy(try makeTopicConf([key: value], over: nil)) } catch
                {
                    throw KafkaPropertyRefusal(property: key, message: "\(error.message) (topic \(topic))")
                }
            }
        }
    }
}

extension KafkaConsumerConfiguration {
    /// What `KafkaConsumer(configuration:)` would refuse, without connecting or joining the group.
    public func check() throws(KafkaPropertyRefusal) {
        try KafkaPropertyCheck.check(librdkafkaProperties, consumer: true)
    }
}
