import Foundation
import Logging

/// Replaces every configured secret value with `***` in text that leaves the process.
public struct Redactor: Sendable {
    /// Longest first, so a secret containing another is replaced whole.
    public let secrets: [String]

    public init(secrets: [String]) {
        self.secrets = Array(Set(secrets.filter { !$0.isEmpty })).sorted { $0.count > $1.count }
    }

    public func scrub(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: "***")
        }
        return result
    }

    func scrub(_ value: Logger.MetadataValue) -> Logger.MetadataValue {
        switch value {
        case .string(let s): .string(scrub(s))
        case .stringConvertible(let c): .string(scrub(c.description))
        case .array(let items): .array(items.map(scrub))
        case .dictionary(let d): .dictionary(d.mapValues(scrub))
        }
    }
}

/// Wraps a log handler so that no configured secret (librdkafka passwords, keys, tokens) is
/// ever written, whoever logs it — our code, a library, or librdkafka's own log callback.
public struct RedactingLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private var underlying: any LogHandler
    private let redactor: Redactor

    public init(underlying: any LogHandler, redactor: Redactor, level: Logger.Level) {
        self.underlying = underlying
        self.underlying.logLevel = .trace
        self.redactor = redactor
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        var scrubbed = event
        scrubbed.message = Logger.Message(stringLiteral: redactor.scrub(event.message.description))
        scrubbed.metadata = merged.isEmpty ? nil : merged.mapValues(redactor.scrub)
        scrubbed.error = nil
        underlying.log(event: scrubbed)
    }
}

extension Logger {
    /// A logger writing to standard error with `secrets` redacted.
    public static func redacting(label: String, level: Logger.Level, secrets: [String]) -> Logger {
        Logger(label: label) { label in
            RedactingLogHandler(
                underlying: StreamLogHandler.standardError(label: label), redactor: Redactor(secrets: secrets),
                level: level)
        }
    }
}
