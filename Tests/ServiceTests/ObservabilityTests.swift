import Foundation
import Logging
import Metrics
import Prometheus
@testable import Service
import Testing

/// Logs as JSON lines, HELP texts through the swift-metrics facade, build info and /proc metrics.
@Suite struct ObservabilityTests {
    @Test func aJSONLogLineIsOneObjectWithTheMetadataAsFields() throws {
        let line = JSONLogHandler.line(
            time: Date(timeIntervalSince1970: 1_700_000_000.25), level: .warning, label: "khuyencong",
            message: "batch failed: \"quoted\"\nsecond line",
            metadata: [
                "batch": .dictionary(["messages": "12", "first_offset": "40"]), "message": "shadowed",
                "partitions": .array(["0", "3"]),
            ])
        #expect(line.last == UInt8(ascii: "\n") && line.dropLast().contains(UInt8(ascii: "\n")) == false, "one line")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        #expect(object["time"] as? String == "2023-11-14T22:13:20.250Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["logger"] as? String == "khuyencong")
        #expect(object["message"] as? String == "batch failed: \"quoted\"\nsecond line")
        #expect(object["metadata.message"] as? String == "shadowed")
        #expect((object["batch"] as? [String: String]) == ["messages": "12", "first_offset": "40"])
        #expect((object["partitions"] as? [String]) == ["0", "3"])
    }

    @Test func theJSONHandlerUnderTheRedactorNeverWritesASecret() throws {
        let lines = LockedLines()
        var logger = Logger(label: "t") { label in
            RedactingLogHandler(
                underlying: JSONLogHandler(label: label) { lines.append($0) },
                redactor: Redactor(secrets: ["hunter22"]), level: .info)
        }
        logger[metadataKey: "conf"] = "sasl.password=hunter22"
        logger.info("login with hunter22")
        let text = lines.text
        #expect(!text.contains("hunter22") && text.contains("login with ***"), "\(text)")
    }

    @Test func facadeMetricsCarryTheirHelpAndUnknownOnesDoNotCrash() {
        let registry = PrometheusCollectorRegistry()
        let factory = ProcessSetup.metricsFactory(registry)
        factory.makeCounter(label: "khuyencong_updates_consumed_total", dimensions: []).increment(by: 3)
        factory.makeCounter(label: "khuyencong_updates_rejected_total", dimensions: [("reason", "malformed_json")])
            .increment(by: 1)
        factory.makeCounter(label: "khuyencong_updates_rejected_total", dimensions: [("reason", "unknown_province")])
            .increment(by: 1)
        factory.makeRecorder(label: "khuyencong_batch_messages", dimensions: [], aggregate: true).record(Int64(5))
        factory.makeTimer(label: "khuyencong_batch_duration_seconds", dimensions: []).recordNanoseconds(3_000_000)
        factory.makeRecorder(label: "something_new", dimensions: [], aggregate: false).record(Int64(1))
        let text = registry.emitToString()
        #expect(text.contains("# HELP khuyencong_updates_consumed_total Input messages read"))
        #expect(
            text.components(separatedBy: "# HELP khuyencong_updates_rejected_total ").count == 2, "one HELP per family")
        #expect(text.contains("# HELP khuyencong_batch_messages Messages per batch."))
        #expect(text.contains("# HELP khuyencong_batch_duration_seconds "))
        #expect(!text.contains("# HELP something_new"), "no invented text for an undescribed metric")
    }

    @Test func buildInfoAndProcessMetrics() throws {
        let registry = ProcessSetup.makeRegistry()
        let process = ProcessMetrics(registry: registry)
        process.update()
        let text = registry.emitToString()
        #expect(
            text.contains(
                #"khuyencong_build_info{version="\#(BuildInfo.version)","#
                    + #"librdkafka_version="\#(BuildInfo.librdkafkaVersion)"} 1"#), "\(text)")
        #if os(Linux)
        for name in [
            "process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
            "process_open_fds", "process_max_fds", "process_start_time_seconds",
        ] {
            let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(name + " ") }, "\(name)")
            #expect((Double(line.split(separator: " ").last ?? "") ?? 0) > 0, "\(line)")
            #expect(text.contains("# HELP \(name) "))
        }
        #endif
    }

    @Test func procStatIsParsedPastACommandNameWithSpacesAndParentheses() throws {
        let stat =
            "4242 (khuyen (cong) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 1000 "
            + "123456789 2500 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
        let sample = try #require(
            ProcSample.parse(
                stat: stat, bootTime: 1_700_000_000, ticksPerSecond: 100, pageSize: 4096,
                openFDs: 7, maxFDs: 1024))
        #expect(
            sample
                == ProcSample(
                    cpuSeconds: 3, residentBytes: 2500 * 4096, virtualBytes: 123_456_789, openFDs: 7,
                    maxFDs: 1024, startTime: 1_700_000_010))
    }
}

final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ bytes: [UInt8]) { lock.withLock { lines.append(String(decoding: bytes, as: UTF8.self)) } }
    var text: String { lock.withLock { lines.joined() } }
}
