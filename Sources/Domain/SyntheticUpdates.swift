#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One input message as it travels on Kafka.
public struct WireMessageBytes: Sendable, Hashable {
    public var key: [UInt8]
    public var payload: [UInt8]

    public init(key: [UInt8], payload: [UInt8]) {
        self.key = key
        self.payload = payload
    }
}

/// Realistic, deterministic execution updates over the 2004 registry (63 provinces), shared by
/// benchmarks, generators and tests. The same seed always gives the same updates.
///
/// Updates walk fiscal years from 2021, month by month, every province and both sources;
/// executed amounts grow with the month (cumulative); most carry 1–2 activities that add up
/// (about 350 bytes on average, like a typical provincial report).
/// When `count` exceeds one pass over the years, later passes resend with a higher revision.
public enum SyntheticUpdates {
    public static func updates(count: Int, registries: Registries, seed: UInt64) -> [ExecutionUpdate] {
        let units = registries.r2004.units
        guard !units.isEmpty, count > 0 else { return [] }
        var rng = SplitMix64(seed: seed)
        let years = 4  // 2021 … 2024, all under registry 2004
        let perPass = years * 12 * units.count * 2
        var result: [ExecutionUpdate] = []
        result.reserveCapacity(count)
        for i in 0..<count {
            let pass = i / perPass, j = i % perPass
            let source: FundingSource = j % 2 == 0 ? .kcqg : .kcdp
            let unit = units[(j / 2) % units.count]
            let month = (j / (2 * units.count)) % 12 + 1
            let year = 2021 + j / (2 * units.count * 12)
            // Plan and pace are fixed per (unit, year, source) so amounts stay cumulative.
            var fixed = SplitMix64(
                seed: seed ^ UInt64(year * 1000 + Int(unit.code.utf8.reduce(0) { $0 * 10 + Int($1 - 48) })) &* 31
                    ^ (source == .kcqg ? 1 : 2))
            let plan = Int64(fixed.next(in: 500...30_000)) * 1_000_000
            let pacePerMille = Int64(fixed.next(in: 400...1_100))
            let executed = min(plan, plan * pacePerMille * Int64(month) / 12_000)
            let parts = Int(rng.next(in: 0...2))
            let activities = parts == 0 ? nil : split(executed, parts: parts, rng: &rng)
            let day = Int(rng.next(in: 1...28))
            let (nextYear, nextMonth) = month == 12 ? (year + 1, 1) : (year, month + 1)
            result.append(
                ExecutionUpdate(
                    reportID: "\(unit.code)-\(year)-\(two(month))-\(source.rawValue)-r\(pass + 1)",
                    province: unit.code, fiscalYear: year, periodEnd: YearMonth(year: year, month: month),
                    source: source, status: rng.next(in: 0...4) == 0 ? .estimate : .actual,
                    planVND: plan, executedVND: executed, revision: Int64(pass + 1),
                    reportedAt: "\(nextYear)-\(two(nextMonth))-\(two(day))"
                        + "T\(two(Int(rng.next(in: 7...17)))):\(two(Int(rng.next(in: 0...59)))):00+07:00",
                    advancedVND: rng.next(in: 0...1) == 0 ? executed / 10 : nil,
                    activities: activities,
                    consulting: rng.next(in: 0...3) == 0
                        ? Consulting(
                            projects: Int64(rng.next(in: 0...5)), revenueVND: Int64(rng.next(in: 0...900)) * 1_000_000)
                        : nil))
        }
        return result
    }

    /// The updates as keyed wire messages (canonical JSON).
    public static func generate(count: Int, registries: Registries, seed: UInt64) -> [WireMessageBytes] {
        updates(count: count, registries: registries, seed: seed).map {
            WireMessageBytes(key: Array($0.province.utf8), payload: $0.canonicalJSON())
        }
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Splits an amount into activities that add up exactly.
    private static func split(_ total: Int64, parts: Int, rng: inout SplitMix64) -> [Activity] {
        var rest = total
        var items: [Activity] = []
        var categories = ActivityCategory.allCases
        for k in 0..<parts {
            let category = categories.remove(at: Int(rng.next(in: 0...UInt64(categories.count - 1))))
            let amount = k == parts - 1 ? rest : rest * Int64(rng.next(in: 20...60)) / 100
            rest -= amount
            let counted = rng.next(in: 0...1) == 0
            items.append(
                Activity(
                    category: category, executedVND: amount,
                    projects: counted ? Int64(rng.next(in: 1...12)) : nil,
                    beneficiaries: counted ? Int64(rng.next(in: 10...600)) : nil))
        }
        return items
    }
}

/// A small deterministic PRNG (SplitMix64): the same seed gives the same sequence everywhere.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in a closed range (modulo bias is irrelevant for test data).
    public mutating func next(in range: ClosedRange<UInt64>) -> UInt64 {
        range.lowerBound + next() % (range.upperBound - range.lowerBound + 1)
    }
}

/// Decode + validate throughput, for `khuyencong bench domain` and tests.
public enum DecodeBenchmark {
    public struct Report: Sendable {
        public var messages: Int
        public var accepted: Int
        public var bytes: Int
        /// Wall-clock time.
        public var seconds: Double
        /// CPU time of the measuring thread: the honest figure on a busy machine.
        public var cpuSeconds: Double
        public var perSecond: Double { seconds > 0 ? Double(messages) / seconds : 0 }
        public var perCPUSecond: Double { cpuSeconds > 0 ? Double(messages) / cpuSeconds : 0 }
        public var averageBytes: Double { messages > 0 ? Double(bytes) / Double(messages) : 0 }
    }

    /// Decodes `messages` repeatedly until at least `minimumSeconds` have passed: into whole
    /// updates, or (`factsOnly`) into the facts stage 1 sends on, as the pipeline does.
    public static func run(
        messages: [WireMessageBytes], decoder: ExecutionUpdateDecoder, minimumSeconds: Double = 1,
        factsOnly: Bool = false
    ) -> Report {
        var report = Report(messages: 0, accepted: 0, bytes: 0, seconds: 0, cpuSeconds: 0)
        guard !messages.isEmpty else { return report }
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = threadCPUSeconds()
        repeat {
            for m in messages {
                let accepted =
                    factsOnly
                    ? (try? decoder.decodeFacts(payload: m.payload, key: m.key).get()) != nil
                    : (try? decoder.decode(payload: m.payload, key: m.key).get()) != nil
                if accepted { report.accepted += 1 }
                report.bytes += m.payload.count
            }
            report.messages += messages.count
            let elapsed = clock.now - start
            report.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        } while report.seconds < minimumSeconds
        report.cpuSeconds = threadCPUSeconds() - cpuStart
        return report
    }

    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
