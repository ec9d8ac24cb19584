import ArgumentParser
import Domain
import ReadSide

/// `khuyencong bench read-side`: what the read side costs per summary the worker publishes. The
/// summaries are the aggregator's own over synthetic updates, in the worker's batches, applied
/// to a fresh `ReadModel` in each round as the follower applies them (no broker: the figure is the
/// read side's CPU alone).
struct BenchReadSide: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read-side",
        abstract: "Measures the read side's CPU time per applied summary on the summaries of synthetic updates."
    )

    @Option(help: "Number of synthetic updates aggregated into the summaries (not timed).")
    var updates = 200_000

    @Option(help: "Updates per aggregation batch, as the worker's stage 2 (one set of summaries per batch).")
    var batchSize = 10_000

    @Option(help: "Seed of the synthetic generator.")
    var seed: UInt64 = 2026

    @Option(help: "Rounds, each on a fresh read model.")
    var rounds = 5

    func run() throws {
        let registries = try Registries.load()
        let configuration = AggregatorConfiguration(registries: registries, rules: try AlertRules.bundled())
        let summaries = Self.summaries(
            configuration, updates: updates, batchSize: batchSize, seed: seed)
        let bytes = summaries.reduce(0) { $0 + $1.value.count }
        print(
            "read side: \(summaries.count) summaries (\(bytes / max(summaries.count, 1)) B avg) from \(updates) "
                + "updates in batches of \(batchSize); CPU time of one thread per round")
        var perSummary: [Double] = []
        for round in 1...max(rounds, 1) {
            let model = ReadModel()
            let start = BenchFigures.threadCPUSeconds()
            for s in summaries { try? model.apply(summaryKey: s.key, value: s.value) }
            let applied = BenchFigures.threadCPUSeconds() - start
            // What the pages then pay once: every held summary's members.
            let readStart = BenchFigures.threadCPUSeconds()
            let held = model.summaries()
            var provinces = 0
            for s in held { provinces += s.message.provinces?.count ?? 0 }
            let read = BenchFigures.threadCPUSeconds() - readStart
            let micros = applied * 1e6 / Double(summaries.count)
            perSummary.append(micros)
            print(
                "  round \(round): apply \(BenchFigures.decimal(micros, 2)) µs per summary, "
                    + "\(BenchFigures.decimal(applied * 1e6 / Double(updates), 3)) µs per update "
                    + "(\(BenchFigures.decimal(applied * 1e3, 1)) ms); then reading the \(held.count) held summaries' "
                    + "members (\(provinces) province rows): \(BenchFigures.decimal(read * 1e3, 1)) ms")
        }
        let median = perSummary.sorted()[perSummary.count / 2]
        print(
            "  median: \(BenchFigures.decimal(median, 2)) µs per summary, "
                + "\(BenchFigures.decimal(median * Double(summaries.count) / Double(updates), 3)) µs per update")
    }

    /// Every summary the aggregator publishes over the synthetic updates, in publication order.
    static func summaries(
        _ configuration: AggregatorConfiguration, updates: Int, batchSize: Int, seed: UInt64
    ) -> [EncodedMessage] {
        let input = SyntheticUpdates.updates(count: updates, registries: configuration.registries, seed: seed)
        let aggregator = Aggregator(configuration: configuration)
        var out: [EncodedMessage] = []
        for (i, u) in input.enumerated() {
            _ = aggregator.apply(u)
            guard (i + 1) % batchSize == 0 || i + 1 == input.count else { continue }
            out += aggregator.endBatch(at: "2026-01-01T00:00:00Z").summaries
        }
        return out
    }
}
