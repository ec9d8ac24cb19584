import Logging
import Service
import Synchronization
import Testing

/// A log handler that keeps every line it is given, formatted like a stream handler would.
final class CapturedLog: Sendable {
    let lines = Mutex<[String]>([])
    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    struct Handler: LogHandler {
        let sink: CapturedLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let meta = (event.metadata ?? [:]).merging(metadata) { a, _ in a }.sorted { $0.key < $1.key }.map {
                "\($0.key)=\($0.value)"
            }
            sink.lines.withLock { $0.append("\(event.level) \(event.message) \(meta.joined(separator: " "))") }
        }
    }

    /// What `ProcessSetup` installs: the redacting handler over the real output.
    func logger(secrets: [String], level: Logger.Level = .trace) -> Logger {
        Logger(label: "test") { _ in
            RedactingLogHandler(underlying: Handler(sink: self), redactor: Redactor(secrets: secrets), level: level)
        }
    }
}

@Suite struct RedactionTests {
    struct Failure: Error, CustomStringConvertible { var description: String }

    @Test func secretsNeverReachTheLog() {
        let log = CapturedLog()
        var logger = log.logger(secrets: ["hunter22", "hunter2"])
        logger[metadataKey: "conf"] = "sasl.password=hunter22"
        logger.error(
            "Invalid value hunter2 for sasl.password", error: Failure(description: "auth failed for hunter22"),
            metadata: ["nested": ["a": "x hunter22 y"], "list": ["hunter2"]])
        logger.info("nothing secret here")
        #expect(!log.text.contains("hunter2"))
        #expect(log.text.contains("Invalid value *** for sasl.password"))
        #expect(log.text.contains("nothing secret here"))
    }

    @Test func levelIsHonoured() {
        let log = CapturedLog()
        let logger = log.logger(secrets: [], level: .warning)
        logger.info("hidden")
        logger.warning("shown")
        #expect(log.lines.withLock { $0.count } == 1)
    }

    @Test func secretPropertyNames() {
        for name in [
            "sasl.password", "ssl.key.password", "ssl.key.pem", "ssl.keystore.password",
            "sasl.oauthbearer.client.secret", "sasl.jaas.config", "sasl.oauthbearer.token.endpoint.url",
        ] {
            #expect(KafkaProperties.isSecret(name), "\(name)")
        }
        for name in ["security.protocol", "sasl.mechanism", "sasl.username", "client.id", "ssl.ca.location"] {
            #expect(!KafkaProperties.isSecret(name), "\(name)")
        }
    }
}
