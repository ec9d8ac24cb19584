import ArgumentParser
import Foundation
import Prometheus
import Service
import ServiceLifecycle

/// Prints one line for the operator on standard error and returns the exit code to throw.
func failure(_ message: String, code: Int32 = 1) -> ExitCode {
    FileHandle.standardError.write(Data("khuyencong: \(message)\n".utf8))
    return ExitCode(code)
}

/// librdkafka properties as `key=value` pairs in key order, as the benchmarks print them.
func describe(_ properties: [String: String]) -> String {
    properties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
}

/// Configuration errors exit with EX_USAGE (64).
let configurationErrorExitCode: Int32 = 64

/// Resolves `run` flags against the process environment, or exits with one line.
/// `clusterRequired`: refuse to run without `--brokers` or `--embedded` (`run`).
func resolveConfiguration(_ flags: RunFlags, clusterRequired: Bool = false) throws -> RunConfiguration {
    do {
        return try RunConfiguration.resolve(
            flags: flags, environment: ProcessInfo.processInfo.environment,
            clusterRequired: clusterRequired)
    } catch {
        throw failure("configuration: \(error)", code: configurationErrorExitCode)
    }
}

/// What `run` and `serve` do before starting: check the librdkafka properties (a bad one exits
/// 64 with one line), then set up logging and metrics for the process.
func bootstrapProcess(_ configuration: RunConfiguration) throws -> PrometheusCollectorRegistry {
    do { try configuration.checkKafkaProperties() } catch {
        // Already without secrets; scrubbed again like every configuration error.
        let redactor = Redactor(secrets: configuration.kafka.secretValues)
        throw failure(redactor.scrub("configuration: \(error)"), code: configurationErrorExitCode)
    }
    return ProcessSetup.bootstrap(
        level: configuration.logLevel, format: configuration.logFormat,
        secrets: configuration.kafka.secretValues)
}

/// Runs the service (and the demo's extra services); failures become one line and exit 1.
func runService(
    _ runner: ServiceRunner,
    extra: @escaping @Sendable (ServiceRunner.Started) -> [any ServiceLifecycle.Service] = { _ in [] }
) async throws {
    try await reportingFailures(secrets: runner.configuration.kafka.secretValues) {
        try await runner.run(
            printBootstrap: { bootstrap in
                FileHandle.standardOutput.write(Data((bootstrap + "\n").utf8))
            }, extraServices: extra)
    }
}

/// Runs `body` (a runner until it stops); a failure becomes one line without `secrets`,
/// exit 64 for a configuration error and 1 for any other.
func reportingFailures(secrets: [String], _ body: () async throws -> Void) async throws {
    let redactor = Redactor(secrets: secrets)
    do {
        try await body()
    } catch let error as ConfigurationError {
        throw failure(redactor.scrub("configuration: \(error)"), code: configurationErrorExitCode)
    } catch {
        throw failure(redactor.scrub("\(error)"))
    }
}
