import PropertyBased
import Testing
@testable import Domain
import TestSupport

/// Properties of the aggregation over random streams.
@Suite(.offThePool) struct AggregatorPropertyTests {
    /// Interleaves per-province sequences at random, keeping each province's own order.
    static func interleave(_ updates: [ExecutionUpdate], seed: UInt64) -> [ExecutionUpdate] {
        var queues: [String: ArraySlice<ExecutionUpdate>] = [:]
        var order: [String] = []
        for u in updates {
            if queues[u.province] == nil { order.append(u.province) }
            queues[u.province, default: []].append(u)
        }
        var rng = SeededRandom(seed: seed)
        var out: [ExecutionUpdate] = []
        while !order.isEmpty {
            let i = Int.random(in: 0..<order.count, using: &rng)
            let p = order[i]
            if let next = queues[p]?.popFirst() { out.append(next) }
            if queues[p]?.isEmpty ?? true { order.remove(at: i) }
        }
        return out
    }

    @Test func finalSummariesDoNotDependOnTheInterleavingOfProvinces() async {
        await propertyCheck(count: 8, input: Gen.uint64(in: 1...1_000_000), Gen.int(in: 7...90)) { seed, batchSize in
            let stream = Streams.updates(count: 300, seed: seed)
            let shuffled = Self.interleave(stream, seed: seed &* 31)
            #expect(shuffled.count == stream.count)
            let a = Fixture.aggregator(), b = Fixture.aggregator()
            _ = Streams.run(a, stream, batchSize: 50)
            _ = Streams.run(b, shuffled, batchSize: batchSize)
            #expect(Streams.finalSummaries(a) == Streams.finalSummaries(b))
            #expect(a.revisionKeyCount == b.revisionKeyCount)
        }
    }

    @Test func applyingAPrefixTwiceChangesNothing() async {
        await propertyCheck(count: 8, input: Gen.uint64(in: 1...1_000_000), Gen.int(in: 0...300)) { seed, prefix in
            let stream = Streams.updates(count: 300, seed: seed)
            let cut = min(prefix, stream.count)
            let a = Fixture.aggregator(), b = Fixture.aggregator()
            _ = Streams.run(a, stream, batchSize: 40)
            _ = Streams.run(b, Array(stream[..<cut]), batchSize: 40)
            for u in stream[..<cut] { #expect(b.apply(u) != .accepted) }
            #expect(b.endBatch(at: "2026-11-21T12:00:00Z").isEmpty)
            _ = Streams.run(b, Array(stream[cut...]), batchSize: 40)
            #expect(Streams.finalSummaries(a) == Streams.finalSummaries(b))
        }
    }

    @Test func extremeAmountsNeverTrap() async throws {
        await propertyCheck(count: 4, input: Gen.int64(in: 0...Money.maxAmount), Gen.int64(in: 1...Money.maxAmount)) {
            executed, plan in
            let a = Fixture.aggregator()
            var updates: [ExecutionUpdate] = []
            for (year, month) in [(2024, 6), (2025, 3), (2025, 6), (2025, 7), (2026, 3), (2026, 7), (2025, 12)] {
                let registry = Fixture.registries.inForce(at: YearMonth(year: year, month: month))
                for unit in registry.units {
                    for source in FundingSource.allCases {
                        updates.append(
                            Fixture.update(
                                unit.code, year, month, source, plan: Money.maxAmount, executed: Money.maxAmount,
                                advanced: Money.maxAmount))
                        updates.append(
                            Fixture.update(
                                unit.code, year, month, source, plan: plan, executed: executed, status: .estimate))
                    }
                }
            }
            let out = Fixture.apply(a, updates)
            let n = Fixture.object(out.summaries.first { $0.key == "ca-nuoc/2024/2024-06" }?.value ?? [])
            #expect(n.int("totals", "plan_vnd") == 126 * Money.maxAmount)
            #expect(n.double("totals", "execution_rate_pct") == 100)
            #expect(out.summaries.count == 4 * 7)
            // Last year at the ceiling, this year at the generated figures: the changes stay finite.
            let b = Fixture.aggregator()
            _ = Fixture.apply(b, [Fixture.update("01", 2024, 3, .kcqg, plan: Money.maxAmount, executed: 1)])
            let out2 = Fixture.apply(b, [Fixture.update("01", 2025, 3, .kcqg, plan: plan, executed: executed)])
            #expect(
                Fixture.message(out2, "bac/2025/2025-03")?.at("same_period_last_year", "totals", "executed_change_pct")
                    != nil)
        }
    }
}
