import Domain
import DomainTestSupport
import Foundation
import Kafka
import Logging
import Synchronization
import Testing
import TestSupport

/// One embedded cluster for the read-side tests (a group's first join costs ~3 s).
enum Shared {
    static let broker: Result<EmbeddedBroker, KafkaError> = Result { () throws(KafkaError) in
        try EmbeddedBroker(brokers: 3, logger: quietLogger)
    }
    static let counter = Atomic<Int>(0)
    static func unique(_ name: String) -> String { "\(name)-\(counter.add(1, ordering: .relaxed).newValue)" }
}

var quietLogger: Logger {
    var logger = Logger(label: "readside.test")
    logger.logLevel = ProcessInfo.processInfo.environment["READSIDE_TEST_LOG"] == nil ? .critical : .info
    return logger
}

/// The contract's seed: miền Trung – Tây Nguyên, first 7 months of 2021 and 2022, province by
/// province (the same inputs as the domain's scenario test), aggregated by the real aggregator.
typealias Seed = AggregatorFixture

extension AggregatorFixture {
    static func region(
        _ year: Int, _ month: Int, _ source: FundingSource, plan: Int64,
        executed: Int64
    ) -> [ExecutionUpdate] {
        regionUpdates(codes(.mienTrungTayNguyen), year, month, source, plan: plan, executed: executed)
    }

    /// 2021-07 then 2022-07 for the region: KCQG 12,11 %, KCĐP 39,38 %, total 28,44 % in 2022.
    static var updates: [ExecutionUpdate] {
        region(2021, 7, .kcqg, plan: 11_140 * million, executed: 1_500 * million)
            + region(2021, 7, .kcdp, plan: 40_090 * million, executed: 7_487 * million)
            + region(2022, 7, .kcqg, plan: 29_172 * million, executed: 3_532 * million)
            + region(2022, 7, .kcdp, plan: 43_601 * million, executed: 17_168 * million)
    }

    /// The outputs the aggregator publishes for `updates`, one batch each year.
    static func outputs() -> (summaries: [EncodedMessage], alerts: [EncodedMessage]) {
        let aggregator = Aggregator(configuration: AggregatorConfiguration(registries: registries, rules: rules))
        let all = updates
        var summaries: [EncodedMessage] = [], alerts: [EncodedMessage] = []
        for year in [2021, 2022] {
            for u in all where u.fiscalYear == year { _ = aggregator.apply(u) }
            let out = aggregator.endBatch(at: "\(year)-08-10T09:00:00Z")
            summaries += out.summaries
            alerts += out.alerts
        }
        return (summaries, alerts)
    }
}

/// `[a,b,…]` of JSON objects' bytes, as the server joins them.
func jsonArray(_ objects: [[UInt8]]) -> String {
    "[" + objects.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ",") + "]"
}
