import ArgumentParser
import Domain
#if canImport(Glibc)
import Glibc
private let RUSAGE_SELF_WHO = RUSAGE_SELF.rawValue
#elseif canImport(Darwin)
import Darwin
private let RUSAGE_SELF_WHO = RUSAGE_SELF
#endif

/// `khuyencong bench domain`: decode+validate and aggregation throughput on synthetic updates.
struct BenchDomain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domain",
        abstract: "Measures decode+validate and aggregation throughput on synthetic updates (63 provinces)."
    )

    @Option(help: "Number of synthetic updates.")
    var updates = 1_000_000

    @Option(help: "Updates per aggregation batch (apply … then endBatch).")
    var batchSize = 10_000

    @Option(help: "Seed of the synthetic generator.")
    var seed: UInt64 = 42

    @Flag(help: "Skip the decode+validate measurement.")
    var skipDecode = false

    func run() throws {
        let registries = try Registries.load()
        if !skipDecode { benchDecode(registries) }
        try benchAggregate(AggregatorConfiguration(registries: registries, rules: try AlertRules.bundled()))
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF_WHO), &usage)
        print("peak memory (ru_maxrss): \(usage.ru_maxrss / 1024) MiB")
    }

    /// Decode + validate of wire JSON built by the canonical encoder.
    private func benchDecode(_ registries: Registries) {
        let wire = SyntheticUpdates.generate(count: min(updates, 200_000), registries: registries, seed: seed)
        let decode = DecodeBenchmark.run(messages: wire, decoder: ExecutionUpdateDecoder(registries: registries), minimumSeconds: 2)
        print("decode+validate: \(decode.messages) messages (avg \(Int(decode.averageBytes)) B), "
            + "\(format(decode.perSecond))/s wall, \(format(decode.perCPUSecond))/s per core (CPU time); accepted \(decode.accepted)")
    }

    /// Applies every update, ending a batch every `batchSize`.
    private func benchAggregate(_ configuration: AggregatorConfiguration) throws {
        let input = SyntheticUpdates.updates(count: updates, registries: configuration.registries, seed: seed)
        let aggregator = Aggregator(configuration: configuration)
        var accepted = 0, summaries = 0, alerts = 0, records = 0, summaryBytes = 0, batches = 0
        var endBatchCPU = 0.0
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = threadCPUSeconds()
        for (i, u) in input.enumerated() {
            if case .accepted = aggregator.apply(u) { accepted += 1 }
            guard (i + 1) % batchSize == 0 || i + 1 == input.count else { continue }
            let batchStart = threadCPUSeconds()
            let out = aggregator.endBatch(at: "2026-01-01T00:00:00Z")
            endBatchCPU += threadCPUSeconds() - batchStart
            summaries += out.summaries.count
            summaryBytes += out.summaries.reduce(0) { $0 + $1.value.count }
            alerts += out.alerts.count
            records += out.changelog.count
            batches += 1
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let cpu = threadCPUSeconds() - cpuStart
        print("aggregate: \(input.count) updates in \(batches) batches, \(format(Double(input.count) / seconds))/s wall, "
            + "\(format(Double(input.count) / cpu))/s per core (CPU time); accepted \(accepted), revision keys \(aggregator.revisionKeyCount)")
        print("  CPU split: apply \(Int((cpu - endBatchCPU) * 1000)) ms, endBatch \(Int(endBatchCPU * 1000)) ms")
        print("  outputs: \(summaries) summaries (\(summaryBytes / max(summaries, 1)) B avg), \(alerts) alerts, \(records) changelog records")
    }

    private func format(_ v: Double) -> String {
        v >= 1_000_000 ? "\(Double(Int(v / 10_000)) / 100)M" : v >= 1_000 ? "\(Int(v / 1_000))k" : "\(Int(v))"
    }

    private func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
