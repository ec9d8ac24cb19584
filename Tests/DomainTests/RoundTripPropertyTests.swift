import Foundation
import PropertyBased
import Testing
@testable import Domain

/// Generated valid updates survive encode → decode unchanged, and re-encode to the same bytes.
@Suite struct RoundTripPropertyTests {
    static let max = Money.maxAmount
    static let idCharacters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")

    static let header = zip(
        Gen.int(in: 2000...2100), Gen.int(in: 1...12), Gen.int(in: 0...99),
        Gen<FundingSource>.case, Gen<ReportStatus>.case,
        Gen.int(in: 0...idCharacters.count - 1).map { idCharacters[$0] }.array(of: 1...128).map { String($0) })

    static let amounts = zip(
        Gen.int64(in: 0...max), Gen.int64(in: 0...max), Gen.int64(in: 1...(1 << 53) - 1),
        Gen.int64(in: 0...max).optional())

    static let activities = zip(
        Gen<ActivityCategory>.case, Gen.int64(in: 0...1_000_000_000_000),
        Gen.int64(in: 0...max).optional(), Gen.int64(in: 0...max).optional()
    )
    .map { Activity(category: $0, executedVND: $1, projects: $2, beneficiaries: $3) }
    .array(of: 0...6).optional()

    static let consulting = zip(Gen.int64(in: 0...max), Gen.int64(in: 0...max))
        .map { Consulting(projects: $0, revenueVND: $1) }.optional()

    /// day, hour, minute, second, offset in minutes (-1 for Z), fraction digits.
    static let timestamp = zip(
        Gen.int(in: 1...28), Gen.int(in: 0...23), Gen.int(in: 0...59), Gen.int(in: 0...59),
        Gen.int(in: -1...(14 * 60)), Gen.int(in: 0...999_999).optional())

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    @Test func encodeDecodeRoundTrips() async {
        let registries = Fixtures.registries
        await propertyCheck(
            count: 300, input: Self.header, Self.amounts, Self.activities, Self.consulting, Self.timestamp
        ) {
            header, amounts, activities, consulting, ts in
            let (year, month, unitIndex, source, status, reportID) = header
            let period = YearMonth(year: year, month: month)
            let units = registries.inForce(at: period).units
            let (day, hour, minute, second, offset, fraction) = ts
            let zone =
                offset < 0 ? "Z" : (offset % 2 == 0 ? "+" : "-") + "\(Self.two(offset / 60)):\(Self.two(offset % 60))"
            let reportedAt =
                "\(year)-\(Self.two(month))-\(Self.two(day))T\(Self.two(hour)):\(Self.two(minute)):\(Self.two(second))"
                + (fraction.map { ".\($0)" } ?? "") + zone
            let executed = activities.map { $0.reduce(0) { $0 + $1.executedVND } } ?? amounts.1
            let update = ExecutionUpdate(
                reportID: reportID, province: units[unitIndex % units.count].code, fiscalYear: year, periodEnd: period,
                source: source, status: status, planVND: amounts.0, executedVND: executed, revision: amounts.2,
                reportedAt: reportedAt, advancedVND: amounts.3, activities: activities, consulting: consulting)
            let wire = update.canonicalJSON()
            let decoded = Fixtures.decoder.decode(payload: wire, key: Array(update.province.utf8))
            #expect(
                decoded.success == update,
                "\(String(decoding: wire, as: UTF8.self)) → \(String(describing: decoded.failure))")
            #expect(decoded.success?.canonicalJSON() == wire)
            #expect(
                Fixtures.decoder.decodeFacts(payload: wire, key: Array(update.province.utf8)).success
                    == ReportFacts(update))
        }
    }

    /// Stage 1 digests a message from its parse, stage 2's revision store compares digests: the
    /// facts must be those of the decoded update, whatever escapes the strings were sent with.
    @Test func factsFromTheParseAreThoseOfTheDecodedUpdate() throws {
        func escaped(_ s: String) -> String { s.utf8.map { String(format: "\\u%04x", $0) }.joined() }
        for update in SyntheticUpdates.updates(count: 300, registries: Fixtures.registries, seed: 11) {
            var json = String(decoding: update.canonicalJSON(), as: UTF8.self)
            for value in [update.reportID, update.province, update.reportedAt]
                + (update.activities ?? []).map(\.category.rawValue)
            {
                json = json.replacingOccurrences(of: "\"\(value)\"", with: "\"\(escaped(value))\"")
            }
            let key = Array(update.province.utf8)
            let decoded = try #require(Fixtures.decoder.decode(payload: Array(json.utf8), key: key).success, "\(json)")
            #expect(decoded == update)
            #expect(
                Fixtures.decoder.decodeFacts(payload: Array(json.utf8), key: key).success == ReportFacts(update),
                "\(json)")
            #expect(
                Fixtures.decoder.decodeFacts(payload: update.canonicalJSON(), key: key).success == ReportFacts(update))
        }
    }

    /// Any one amount or count pushed out of 0 … 10^15 is reported at its own pointer.
    @Test func anyAmountOutOfRangeIsPointedAt() async {
        let updates = SyntheticUpdates.updates(count: 500, registries: Fixtures.registries, seed: 5)
        await propertyCheck(
            count: 200, input: Gen.int(in: 0...499), Gen.int(in: 0...5),
            Gen.int64(in: 1...Int64.max - Money.maxAmount).map { $0 % 2 == 0 ? -$0 : Money.maxAmount + $0 }
        ) {
            index, target, bad in
            var u = updates[index]
            let pointer: String
            switch target {
            case 0: u.planVND = bad; pointer = "/plan_vnd"
            case 1: u.executedVND = bad; pointer = "/executed_vnd"
            case 2: u.advancedVND = bad; pointer = "/advanced_vnd"
            case 3 where u.consulting != nil: u.consulting?.revenueVND = bad; pointer = "/consulting/revenue_vnd"
            case 4 where u.activities != nil:
                let k = index % (u.activities?.count ?? 1)
                u.activities?[k].executedVND = bad; pointer = "/activities/\(k)/executed_vnd"
            default: u.planVND = bad; pointer = "/plan_vnd"
            }
            let r = Fixtures.decoder.decode(payload: u.canonicalJSON(), key: Array(u.province.utf8)).failure
            #expect(r?.reason == .amountOutOfRange)
            #expect(r?.field == pointer)
            #expect(r?.detail.hasSuffix("nhận được \(bad).") == true)
        }
    }

    @Test func syntheticUpdatesAreValidAndDeterministic() {
        let messages = SyntheticUpdates.generate(count: 2_000, registries: Fixtures.registries, seed: 7)
        #expect(messages == SyntheticUpdates.generate(count: 2_000, registries: Fixtures.registries, seed: 7))
        #expect(messages != SyntheticUpdates.generate(count: 2_000, registries: Fixtures.registries, seed: 8))
        let decoded = messages.compactMap { Fixtures.decoder.decode(payload: $0.payload, key: $0.key).success }
        #expect(decoded.count == messages.count)
        #expect(Set(decoded.map(\.province)).count == 63)
        let average = messages.map(\.payload.count).reduce(0, +) / messages.count
        #expect((250...500).contains(average))
    }

    @Test func benchmarkCountsAcceptedMessages() {
        let messages = SyntheticUpdates.generate(count: 100, registries: Fixtures.registries, seed: 1)
        let report = DecodeBenchmark.run(messages: messages, decoder: Fixtures.decoder, minimumSeconds: 0)
        #expect(report.messages == 100 && report.accepted == 100)
        #expect(report.bytes == messages.map(\.payload.count).reduce(0, +))
    }
}
