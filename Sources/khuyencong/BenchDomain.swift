import ArgumentParser
import Domain
import Foundation
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

    @Flag(help: "Measure only the decode cost per byte of the worst inputs we know against a normal update.")
    var hostileOnly = false

    @Option(help: "Rounds per input of the hostile-input measurement (each round about 20 ms of CPU).")
    var hostileRounds = 5

    @Flag(help: "Print a digest of every output (to check that an optimisation changed no byte; not timed).")
    var outputDigest = false

    func validate() throws {
        guard updates > 0, batchSize > 0, hostileRounds > 0 else {
            throw ValidationError("--updates, --batch-size and --hostile-rounds must be positive")
        }
    }

    func run() throws {
        let registries = try Registries.load()
        if hostileOnly || !skipDecode { benchHostile(registries) }
        if hostileOnly { return }
        if !skipDecode { benchDecode(registries) }
        try benchAggregate(AggregatorConfiguration(registries: registries, rules: try AlertRules.bundled()))
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF_WHO), &usage)
        print("peak memory (ru_maxrss): \(usage.ru_maxrss / 1024) MiB (whole process, generated input included)")
    }

    /// Decode + validate of wire JSON built by the canonical encoder.
    private func benchDecode(_ registries: Registries) {
        let wire = SyntheticUpdates.generate(count: min(updates, 200_000), registries: registries, seed: seed)
        let decoder = ExecutionUpdateDecoder(registries: registries)
        for factsOnly in [false, true] {
            let decode = DecodeBenchmark.run(messages: wire, decoder: decoder, minimumSeconds: 2, factsOnly: factsOnly)
            print(
                "decode+validate \(factsOnly ? "to facts (stage 1)" : "to whole updates"): \(decode.messages) "
                    + "messages (avg \(Int(decode.averageBytes)) B), "
                    + "\(format(decode.perSecond))/s wall, \(format(decode.perCPUSecond))/s per core (CPU time); "
                    + "accepted \(decode.accepted)")
        }
    }

    /// Decode cost per byte of each hostile input and of a normal update, measured in turn
    /// (normal, hostile, normal, …) so a change in machine load shows in both; every round is
    /// printed, and the ratio uses the least round of each.
    private func benchHostile(_ registries: Registries) {
        let decoder = ExecutionUpdateDecoder(registries: registries)
        print(
            "decode cost per byte (CPU ns/B, \(hostileRounds) rounds each; "
                + "ratio = least round / normal's least round):")
        var normalRounds: [Double] = []
        for c in HostileInputs.cases {
            normalRounds += DecodeCost.nanosecondsPerByte(HostileInputs.normal, decoder: decoder, rounds: hostileRounds)
            let rounds = DecodeCost.nanosecondsPerByte(c, decoder: decoder, rounds: hostileRounds)
            let outcome =
                switch decoder.decode(payload: c.payload, key: c.key) {
                case .success: "accepted"
                case .failure(let r): r.reason.rawValue
                }
            let ratio = rounds.min()! / normalRounds.min()!
            print(
                "  \(c.name) (\(c.payload.count) B, \(outcome)): \(Self.show(rounds)) → "
                    + "×\(BenchFigures.decimal(ratio, 2))")
        }
        print(
            "  \(HostileInputs.normal.name) (\(HostileInputs.normal.payload.count) B), measured between them: "
                + "\(Self.show(normalRounds))")
    }

    private static func show(_ rounds: [Double]) -> String {
        rounds.map { BenchFigures.decimal($0, 2) }.joined(separator: " ")
    }

    /// Applies every update, ending a batch every `batchSize`.
    private func benchAggregate(_ configuration: AggregatorConfiguration) throws {
        let input = SyntheticUpdates.updates(count: updates, registries: configuration.registries, seed: seed)
        if let rss = Self.residentMiB() { print("resident before aggregating (generated input held): \(rss) MiB") }
        let aggregator = Aggregator(configuration: configuration)
        var accepted = 0, summaries = 0, alerts = 0, records = 0, summaryBytes = 0, batches = 0
        var endBatchCPU = 0.0, excludedCPU = 0.0
        var digest = OutputDigest()
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = BenchFigures.threadCPUSeconds()
        for (i, u) in input.enumerated() {
            if case .accepted = aggregator.apply(u) { accepted += 1 }
            guard (i + 1) % batchSize == 0 || i + 1 == input.count else { continue }
            let batchStart = BenchFigures.threadCPUSeconds()
            let out = aggregator.endBatch(at: "2026-01-01T00:00:00Z")
            let batchEnd = BenchFigures.threadCPUSeconds()
            endBatchCPU += batchEnd - batchStart
            if outputDigest {
                digest.add(out)
                excludedCPU += BenchFigures.threadCPUSeconds() - batchEnd
            }
            summaries += out.summaries.count
            summaryBytes += out.summaries.reduce(0) { $0 + $1.value.count }
            alerts += out.alerts.count
            records += out.changelog.count
            batches += 1
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let cpu = BenchFigures.threadCPUSeconds() - cpuStart - excludedCPU
        print(
            "aggregate: \(input.count) updates in \(batches) batches, \(format(Double(input.count) / seconds))/s wall, "
                + "\(format(Double(input.count) / cpu))/s per core (CPU time); accepted \(accepted), revision keys "
                + "\(aggregator.revisionKeyCount)")
        print("  CPU split: apply \(Int((cpu - endBatchCPU) * 1000)) ms, endBatch \(Int(endBatchCPU * 1000)) ms")
        print(
            "  outputs: \(summaries) summaries (\(summaryBytes / max(summaries, 1)) B avg), \(alerts) alerts, "
                + "\(records) changelog records")
        if outputDigest { print("  output digest: \(String(digest.value, radix: 16))") }
    }

    private func format(_ v: Double) -> String {
        v >= 1_000_000 ? "\(Double(Int(v / 10_000)) / 100)M" : v >= 1_000 ? "\(Int(v / 1_000))k" : "\(Int(v))"
    }

    /// Current resident set size (Linux `/proc/self/statm`, in pages); nil elsewhere.
    private static func residentMiB() -> Int? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / (1024 * 1024)
    }

}

/// FNV-1a over every output's key and value, in order (a nil value counts as one 0xFF byte).
private struct OutputDigest {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ out: BatchOutput) {
        for m in out.summaries + out.alerts { add(m.key.utf8); add(m.value) }
        for r in out.changelog { add(r.key.utf8); if let v = r.value { add(v) } else { add(CollectionOfOne(0xFF)) } }
    }

    private mutating func add(_ bytes: some Sequence<UInt8>) {
        for b in bytes { value = (value ^ UInt64(b)) &* 0x100_0000_01B3 }
        value = (value ^ 0xFE) &* 0x100_0000_01B3  // separator
    }
}
