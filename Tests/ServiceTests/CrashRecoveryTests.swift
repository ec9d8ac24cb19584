import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Service
import Testing
import TestSupport

/// Crash recovery (#19): worker processes SIGKILLed mid-stream against `khuyencong broker`, once
/// and then three times in a row (a crash-looping pod), lose nothing — the final summaries equal
/// those of a worker that was never interrupted — and each replacement commits its
/// first batch within the bound the session timeout sets.
///
/// Half a minute, and its bounds are timings: `make test` runs it alone, after the other suites,
/// as `RECOVERY_TEST=1 swift test --filter CrashRecoveryTests`.
/// `RECOVERY_SESSION_MS` runs every incarnation with that session timeout instead of the
/// worker's own choice (e.g. 45000, librdkafka's default, to measure the cost before it).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["RECOVERY_TEST"] != nil))
struct CrashRecoveryTests {
    /// The embedded broker's session (`GroupMembership.embeddedBroker`), or the one asked for.
    static let sessionSeconds: Double = {
        let asked = ProcessInfo.processInfo.environment["RECOVERY_SESSION_MS"].flatMap(Double.init)
        guard let ms = asked else { return 6 }
        return ms / 1000
    }()

    /// Joining, restoring the state and the first transaction, on a loaded 2-core machine.
    static let slackSeconds: Double = 10

    struct Incarnation {
        let process: ChildProcess
        let port: Int

        /// `recovery_seconds` from the worker's log line; nil before its first committed batch.
        var recoverySeconds: Double? {
            let log = process.stderr
            guard let range = log.range(of: "recovery_seconds=") else { return nil }
            return Double(log[range.upperBound...].prefix { $0.isNumber || $0 == "." })
        }

        func waitForFirstBatch(within limit: Double) async throws -> Double {
            try await eventually("the first committed batch", within: .seconds(limit)) {
                guard process.process.isRunning else {
                    throw ChildProcess.Failure(description: "the worker exited: \(process.stderr.suffix(2000))")
                }
                return recoverySeconds != nil
            }
            return recoverySeconds ?? -1
        }

        func get(_ path: String) -> String? {
            guard let answer = try? LoopbackHTTP.get(port: port, path: path), answer.status == 200 else { return nil }
            return answer.body
        }
    }

    static func start(_ bootstrap: String, group: String, outputs prefix: String) throws -> Incarnation {
        let port = try freeLoopbackPort()
        var arguments = [
            "run", "--brokers", bootstrap, "--http", "127.0.0.1:\(port)", "--group-id", group, "--instance-id", group,
            "--summaries-topic", "\(prefix)summaries", "--alerts-topic", "\(prefix)alerts",
            "--rejected-topic", "\(prefix)rejected", "--log-level", "info", "--batch-max-ms", "5",
        ]
        if let ms = ProcessInfo.processInfo.environment["RECOVERY_SESSION_MS"] {
            arguments += ["--kafka", "session.timeout.ms=\(ms)", "--kafka", "heartbeat.interval.ms=3000"]
        }
        return Incarnation(process: try ChildProcess(arguments), port: port)
    }

    /// The sample stream in `count` consecutive files.
    static func chunks(_ count: Int) throws -> [String] {
        let sample = try #require(SampleStream.bundledPath)
        let lines = try String(contentsOfFile: sample, encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: true)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recovery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try (0..<count).map { i in
            let part = lines[(lines.count * i / count)..<(lines.count * (i + 1) / count)]
            let path = dir.appendingPathComponent("chunk-\(i).jsonl").path
            try (part.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
    }

    static func produce(_ file: String, _ bootstrap: String) throws -> ChildProcess {
        try ChildProcess(["produce", file, "--brokers", bootstrap])
    }

    /// The summaries a worker's read side serves, `computed_at` aside (each group stamps its own
    /// batches). Alerts are left out: with the resolve margin (hysteresis) an alert's state may
    /// depend on the order of the provinces' reports, which differs between two groups.
    static func summaries(_ worker: Incarnation) -> String? {
        guard let body = worker.get("/v1/summaries") else { return nil }
        let array = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [[String: Any]] ?? []
        guard !array.isEmpty else { return nil }
        return array.map { object in
            let data =
                (try? JSONSerialization.data(
                    withJSONObject: object.filter { $0.key != "computed_at" },
                    options: .sortedKeys)) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }.sorted().joined(separator: "\n")
    }

    @Test(.timeLimit(.minutes(10)))
    func workersKilledMidStreamRecoverWithinTheBoundAndLoseNothing() async throws {
        let broker = try ChildProcess(["broker"])
        defer { broker.signal(SIGTERM) }
        let bootstrap = try await broker.firstLine(within: .seconds(60))
        let chunks = try Self.chunks(4)
        let reference = try Self.start(bootstrap, group: "reference", outputs: "reference.")
        var worker = try Self.start(bootstrap, group: "crashing", outputs: "")
        defer {
            reference.process.signal(SIGTERM)
            worker.process.signal(SIGTERM)
        }
        let first = try Self.produce(chunks[0], bootstrap)
        #expect(try await first.exitStatus(within: .seconds(60)) == 0)
        _ = try await worker.waitForFirstBatch(within: 60)

        // One kill while the next chunk streams in; the replacement starts at once.
        let second = try Self.produce(chunks[1], bootstrap)
        worker.process.signal(SIGKILL)
        var killed = ContinuousClock.now
        worker = try Self.start(bootstrap, group: "crashing", outputs: "")
        let oneKill = try await worker.waitForFirstBatch(within: 3 * Self.sessionSeconds + Self.slackSeconds + 60)
        let oneKillStall = ContinuousClock.now - killed
        #expect(try await second.exitStatus(within: .seconds(60)) == 0)

        // Three kills in a row: two incarnations live about 1.5 s each (long enough to join the
        // group, as a crash-looping pod's do), then the third stays.
        let third = try Self.produce(chunks[2], bootstrap)
        worker.process.signal(SIGKILL)
        killed = ContinuousClock.now
        for _ in 0..<2 {
            let doomed = try Self.start(bootstrap, group: "crashing", outputs: "")
            try await Task.sleep(for: .milliseconds(1500))  // the scenario's lifetime, not a synchronisation
            doomed.process.signal(SIGKILL)
        }
        worker = try Self.start(bootstrap, group: "crashing", outputs: "")
        let threeKills = try await worker.waitForFirstBatch(within: 3 * Self.sessionSeconds + Self.slackSeconds + 60)
        let threeKillsStall = ContinuousClock.now - killed
        #expect(try await third.exitStatus(within: .seconds(60)) == 0)
        let fourth = try Self.produce(chunks[3], bootstrap)
        #expect(try await fourth.exitStatus(within: .seconds(60)) == 0)

        print(
            "recovery: one kill \(oneKill) s (stream stalled \(oneKillStall)); three kills \(threeKills) s "
                + "(stream stalled \(threeKillsStall)); session \(Self.sessionSeconds) s")
        #expect(oneKill <= Self.sessionSeconds + Self.slackSeconds, "one kill: \(oneKill) s")
        #expect(threeKills <= 3 * Self.sessionSeconds + Self.slackSeconds, "three kills: \(threeKills) s")

        // Nothing lost, nothing doubled: the same summaries as the uninterrupted worker's.
        var crashed: String?, uninterrupted: String?
        try await eventually("the uninterrupted worker's summaries", within: .seconds(120)) {
            crashed = Self.summaries(worker)
            uninterrupted = Self.summaries(reference)
            return crashed != nil && crashed == uninterrupted
                && uninterrupted?.contains(#""provinces_reported":48"#) == true
        }
        #expect(crashed == uninterrupted)
    }
}
