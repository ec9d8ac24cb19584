import Domain
import Foundation
import Logging

/// `--log-format json`: one JSON object per line on standard error, for log collectors.
/// Fields: `time` (UTC, ISO 8601 with milliseconds), `level`, `logger`, `message`, then every
/// metadata entry as a field of its own (the batch context, `error`, …); a metadata key equal to
/// one of the four fixed ones is written as `metadata.<key>`. swift-log ships no JSON handler.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let write: @Sendable ([UInt8]) -> Void

    static let fixedFields: Set<String> = ["time", "level", "logger", "message"]

    public init(label: String, write: @escaping @Sendable ([UInt8]) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    /// One `write(2)` per line, so that lines from different threads never interleave.
    public static let standardError: @Sendable ([UInt8]) -> Void = { bytes in
        bytes.withUnsafeBytes { buffer in _ = Foundation.write(STDERR_FILENO, buffer.baseAddress, buffer.count) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        write(
            Self.line(
                time: Date(), level: event.level, label: label, message: event.message.description, metadata: merged))
    }

    static func line(time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata)
        -> [UInt8]
    {
        var json = JSONWriter()
        json.beginObject()
        json.key("time")
        json.string(time.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        json.key("level")
        json.string(level.rawValue)
        json.key("logger")
        json.string(label)
        json.key("message")
        json.string(message)
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            json.key(fixedFields.contains(key) ? "metadata.\(key)" : key)
            write(value, into: &json)
        }
        json.endObject()
        return json.bytes + [UInt8(ascii: "\n")]
    }

    private static func write(_ value: Logger.MetadataValue, into json: inout JSONWriter) {
        switch value {
        case .string(let s): json.string(s)
        case .stringConvertible(let c): json.string(c.description)
        case .array(let items):
            json.beginArray()
            for item in items { write(item, into: &json) }
            json.endArray()
        case .dictionary(let d):
            json.beginObject()
            for (key, item) in d.sorted(by: { $0.key < $1.key }) {
                json.key(key)
                write(item, into: &json)
            }
            json.endObject()
        }
    }
}
