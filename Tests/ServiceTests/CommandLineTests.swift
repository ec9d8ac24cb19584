import Foundation
@testable import Service
import SchemaTestSupport
import Testing
import TestSupport

/// The `khuyencong` command as an operator (and deploy/) runs it: a real process on the embedded
/// broker, fed by `khuyencong produce`, stopped with SIGTERM.
@Suite(.serialized) struct CommandLineTests {
    @Test func workerProcessFedBySampleStreamServesWhatDeployExpectsAndStopsOnSIGTERM() async throws {
        let secret = "Pr0cess-Secret-\(UUID().uuidString)"
        let port = try freeLoopbackPort()
        let worker = try ChildProcess(
            ["run", "--embedded", "--http", "127.0.0.1:\(port)", "--batch-max-ms", "5"],
            environment: ["KHUYENCONG_KAFKA_SASL_PASSWORD": secret])
        let bootstrap = try await worker.firstLine(within: .seconds(60))
        #expect(bootstrap.split(separator: ",").count == 3, "the first line is the embedded broker's bootstrap list")

        let sample = try #require(SampleStream.bundledPath)
        let produce = try ChildProcess(["produce", sample, "--brokers", bootstrap])
        #expect(try await produce.exitStatus(within: .seconds(60)) == 0, "\(produce.stderr)")

        // Bounded wait until the worker has summarised, alerted and rejected the sample.
        var metrics = ""
        try await eventually("summaries, alerts and rejections on /metrics", within: .seconds(90)) {
            metrics = (try? LoopbackHTTP.get(port: port, path: "/metrics").body) ?? ""
            let lines = metrics.split(separator: "\n")
            func positive(_ prefix: String) -> Bool {
                lines.contains { $0.hasPrefix(prefix) && (Double($0.split(separator: " ").last ?? "") ?? 0) > 0 }
            }
            return positive(#"khuyencong_summaries_emitted_total{region="ca-nuoc"}"#)
                && positive(#"khuyencong_alerts_emitted_total{state="raised"}"#)
                && positive("khuyencong_updates_rejected_total") && positive("khuyencong_ready")
                && metrics.contains("khuyencong_consumer_lag{")
        }
        #expect(try LoopbackHTTP.get(port: port, path: "/readyz").status == 200)

        // deploy/ agrees with this output and with the worker's own configuration reference.
        let reference = try ChildProcess(["config-reference"])
        #expect(try await reference.exitStatus(within: .seconds(30)) == 0, "\(reference.stderr)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let metricsFile = dir.appendingPathComponent("metrics.txt"),
            referenceFile = dir.appendingPathComponent("reference.json")
        try Data(metrics.utf8).write(to: metricsFile)
        try Data(reference.stdout.utf8).write(to: referenceFile)
        let check = try ChildProcess(
            [
                "python3", SchemaValidation.repoRoot.appendingPathComponent("deploy/check.py").path,
                "--metrics", metricsFile.path, "--config-reference", referenceFile.path,
            ],
            executable: URL(fileURLWithPath: "/usr/bin/env"))
        #expect(
            try await check.exitStatus(within: .seconds(120)) == 0, "deploy/check.py:\n\(check.stdout)\(check.stderr)")
        #expect(
            check.stdout.contains("PASS  dashboard-metrics") && check.stdout.contains("PASS  compose-vs-reference"),
            "the checks that need the captured output ran")

        worker.signal(SIGTERM)
        #expect(try await worker.exitStatus(within: .seconds(60)) == 0, "SIGTERM is a graceful stop")
        #expect(!worker.stderr.contains(secret), "the secret never reaches the logs")
        #expect(!metrics.contains(secret))
    }

    /// The contract's other way to run locally: `khuyencong broker` in one process, `run --brokers` in another.
    @Test func workerAgainstTheBrokerCommandIsReadyWithinSecondsAndWarnsAboutNothing() async throws {
        let broker = try ChildProcess(["broker"])
        let bootstrap = try await broker.firstLine(within: .seconds(60))
        let port = try freeLoopbackPort()
        // A consumer property reaches the producer and the admin client as well, by design.
        let worker = try ChildProcess([
            "run", "--brokers", bootstrap, "--http", "127.0.0.1:\(port)", "--kafka", "session.timeout.ms=20000",
        ])
        // librdkafka waited 30 s for the mock's controller, which does not exist, before giving up on CreateTopics.
        let started = ContinuousClock.now
        try await eventually("/readyz 200", within: .seconds(90)) {
            (try? LoopbackHTTP.get(port: port, path: "/readyz").status) == 200
        }
        #expect(ContinuousClock.now - started < .seconds(20))

        // The internal topics the mock made on first use (4 partitions) carry the stream: the
        // national summary of the sample's last month is served.
        let sample = try #require(SampleStream.bundledPath)
        let produce = try ChildProcess(["produce", sample, "--brokers", bootstrap])
        #expect(try await produce.exitStatus(within: .seconds(60)) == 0, "\(produce.stderr)")
        try await eventually("the national summary of 2024-06", within: .seconds(90)) {
            let answer = try? LoopbackHTTP.get(port: port, path: "/v1/summaries?region=ca-nuoc&period=2024-06")
            return answer?.status == 200 && answer?.body.contains(#""provinces_reported":48"#) == true
        }
        worker.signal(SIGTERM)
        #expect(try await worker.exitStatus(within: .seconds(60)) == 0)
        broker.signal(SIGTERM)
        #expect(try await broker.exitStatus(within: .seconds(30)) == 0)
        #expect(worker.stderr.contains("topics not created: the embedded broker"), "\(worker.stderr)")
        let warnings = worker.stderr.split(separator: "\n").filter {
            $0.contains(" warning ") || $0.contains(" error ")
        }
        #expect(warnings.isEmpty, "\(warnings.joined(separator: "\n"))")
    }

    /// In-process broker, or `khuyencong broker` in another process (the path a real cluster takes,
    /// where the worker first asks for the cluster's id to create its topics).
    @Test(arguments: [false, true]) func failedAuthenticationEndsTheProcessWithExitCode1(brokerProcess: Bool)
        async throws
    {
        let secret = "Wr0ng-Password-\(UUID().uuidString)"
        let broker = brokerProcess ? try ChildProcess(["broker"]) : nil
        var brokers = ["--embedded"]
        if let broker { brokers = ["--brokers", try await broker.firstLine(within: .seconds(60))] }
        defer { broker?.signal(SIGTERM) }
        // The embedded broker speaks PLAINTEXT only: a SASL client cannot authenticate with it.
        let worker = try ChildProcess(
            [
                "run", "--http", "127.0.0.1:0", "--kafka", "security.protocol=sasl_plaintext",
                "--kafka", "sasl.mechanisms=PLAIN", "--kafka", "sasl.username=province-49",
            ] + brokers,
            environment: ["KHUYENCONG_KAFKA_SASL_PASSWORD": secret])
        // Within seconds: librdkafka would retry the handshake until its 30 s timeouts.
        let started = ContinuousClock.now
        #expect(try await worker.exitStatus(within: .seconds(120)) == 1)
        #expect(ContinuousClock.now - started < .seconds(15))
        // The command's own last line; a client still tearing down may log after it (a transport
        // warning once the in-process broker is gone), which is not what this test is about.
        let last = worker.stderr.split(separator: "\n").last { $0.hasPrefix("khuyencong: ") } ?? ""
        #expect(last.hasPrefix("khuyencong: fatal Kafka error") && last.contains("_AUTHENTICATION"), "\(worker.stderr)")
        #expect(!worker.stderr.contains(secret))
    }

    @Test func aConfigurationErrorIsOneLineAndExitCode64() async throws {
        let worker = try ChildProcess(["run", "--embedded", "--guarantee", "sometimes", "--http", "127.0.0.1:0"])
        #expect(try await worker.exitStatus(within: .seconds(30)) == 64)
        let lines = worker.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(worker.stderr)")
    }

    /// Each configuration error: exit 64 at once, one line saying what to fix, no secret.
    @Test(arguments: [
        (["run"], [String: String](), "--brokers"),
        (["run", "--embedded", "--kafka", "nosuch.property=1"], [:], "unknown Kafka property nosuch.property"),
        (
            ["run", "--brokers", "127.0.0.1:9", "--kafka", "security.protocol=bogus"], [:],
            "Kafka property security.protocol=bogus (set by --kafka) is refused by librdkafka"
        ),
        (
            ["run", "--embedded"], ["KHUYENCONG_BROKER": "k:9092"],
            "unknown setting KHUYENCONG_BROKER (did you mean KHUYENCONG_BROKERS?)"
        ),
        (
            ["run", "--embedded", "--kafka", "sasl.password=Xy9-secret", "--guarantee", "Xy9-secret"], [:],
            "--guarantee must be"
        ),
        (
            ["run", "--embedded", "--kafka", "sasl.password=Xy9-secret", "--rules", "/nonexistent/Xy9-secret.json"],
            [:],
            "alert rules: "
        ),
    ])
    func configurationErrorsExit64AtOnceWithOneLine(
        arguments: [String], environment: [String: String], expected: String
    ) async throws {
        let started = ContinuousClock.now
        let worker = try ChildProcess(arguments + ["--http", "127.0.0.1:0"], environment: environment)
        #expect(try await worker.exitStatus(within: .seconds(30)) == 64)
        #expect(ContinuousClock.now - started < .seconds(10), "no retry loop")
        let lines = worker.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(worker.stderr)")
        #expect(
            lines.first?.hasPrefix("khuyencong: configuration: ") == true && lines.first?.contains(expected) == true,
            "\(worker.stderr)")
        if arguments == ["run"] { #expect(worker.stderr.contains("--embedded")) }
        #expect(!worker.stderr.contains("Xy9-secret"), "\(worker.stderr)")
        #expect(worker.stdout.isEmpty, "nothing started: \(worker.stdout)")
    }

    /// A benchmark option out of range is a usage error (ArgumentParser's exit 64), not a trap
    /// partway through the run (`--hostile-rounds 0` took the minimum of no rounds).
    @Test(arguments: [
        ["bench", "domain", "--hostile-rounds", "0"], ["bench", "domain", "--skip-decode", "--batch-size", "0"],
        ["bench", "domain", "--updates", "0"],
    ])
    func benchOptionsOutOfRangeAreUsageErrors(arguments: [String]) async throws {
        let bench = try ChildProcess(arguments)
        #expect(try await bench.exitStatus(within: .seconds(30)) == 64, "\(bench.stderr)")
        #expect(bench.stderr.contains("must be positive"), "\(bench.stderr)")
    }

    @Test func versionNamesTheReleaseAndLibrdkafka() async throws {
        let version = try ChildProcess(["--version"])
        #expect(try await version.exitStatus(within: .seconds(30)) == 0)
        #expect(version.stdout == "khuyencong \(BuildInfo.version) (librdkafka \(BuildInfo.librdkafkaVersion))\n")
    }
}
