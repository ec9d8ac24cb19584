import Kafka
@testable import Service
import Testing

/// librdkafka's own checks of the pass-through properties, run before anything starts.
@Suite struct KafkaPropertyCheckTests {
    func check(_ arguments: [String], env: [String: String] = [:], guarantee: String = "exactly-once") -> String? {
        do {
            let flags = try RunFlags.parse(arguments + ["--brokers", "127.0.0.1:9", "--guarantee", guarantee])
            try RunConfiguration.resolve(flags: flags, environment: env, hostname: "h").checkKafkaProperties()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func acceptedPropertiesPass() {
        #expect(
            check([
                "--kafka", "security.protocol=SASL_SSL", "--kafka", "sasl.mechanisms=SCRAM-SHA-512",
                "--kafka", "sasl.username=u", "--kafka", "sasl.password=p", "--kafka", "session.timeout.ms=20000",
            ]) == nil)
        #expect(check([]) == nil)
    }

    @Test func anUnknownPropertyIsNamedWithItsOriginAndTheClosestKnownOne() {
        #expect(check(["--kafka", "nosuch.property=1"]) == "unknown Kafka property nosuch.property (set by --kafka)")
        #expect(
            check(["--kafka", "sesion.timeout.ms=1"])
                == "unknown Kafka property sesion.timeout.ms (set by --kafka) (did you mean session.timeout.ms?)")
        // A misspelt fixed variable reads as a property: the setting is the better suggestion.
        #expect(
            check([], env: ["KHUYENCONG_KAFKA_PROPERTY_FILE": "/x"])
                == "unknown Kafka property property.file (set by KHUYENCONG_KAFKA_PROPERTY_FILE) (did you mean "
                + "KHUYENCONG_KAFKA_PROPERTIES_FILE?)")
    }

    @Test func aBadValueIsNamedAndASecretOneRedacted() throws {
        let bad = try #require(check(["--kafka", "security.protocol=bogus"]))
        #expect(
            bad.hasPrefix("Kafka property security.protocol=bogus (set by --kafka) is refused by librdkafka: "),
            "\(bad)")
        let secret = "n0t-a-number-S3cret"
        let message = try #require(
            check(
                [],
                env: [
                    "KHUYENCONG_KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL": "x",
                    "KHUYENCONG_KAFKA_SSL_KEYSTORE_PASSWORD": secret,
                    "KHUYENCONG_KAFKA_SOCKET_TIMEOUT_MS": secret,
                ]))
        #expect(!message.contains(secret), "\(message)")
    }

    @Test func aCombinationRefusedAtClientCreationIsAnError() throws {
        // Idempotence (always on) needs acks=all; librdkafka refuses the producer, not the property.
        let message = try #require(check(["--kafka", "acks=1"]))
        #expect(message.hasPrefix("librdkafka refuses the Kafka properties [acks=1]: "), "\(message)")
        #expect(message.contains("acks"))
    }

    @Test func librdkafkaKnowsItsPropertiesAndVersion() {
        #expect(KafkaPropertyCheck.propertyNames.contains("bootstrap.servers"))
        #expect(KafkaPropertyCheck.propertyNames.contains("acks"), "topic properties too")
        #expect(KafkaPropertyCheck.propertyNames.count > 100)
        #expect(KafkaPropertyCheck.librdkafkaVersion.hasPrefix("2."))
    }
}
