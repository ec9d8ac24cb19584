import Dashboard
import Domain
import Foundation
@testable import ReadSide
import SchemaTestSupport
import Testing
import TestSupport

/// A real browser on a running worker's dashboard: headless Chromium driven by selenium
/// (`Tests/Browser/dashboard_check.py`; `make test` installs chromium, chromium-driver and
/// selenium). Screenshots go to `.build/test-output/DashboardBrowserTests/`.
@Suite(.serialized) struct DashboardBrowserTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// One province's KCQG report revised upwards, and the region's KCQG rate it leads to,
    /// computed by the real aggregator (exact, Vietnamese format).
    static func revision() throws -> (update: ExecutionUpdate, rate: String) {
        let original = try #require(Seed.updates.first { $0.fiscalYear == 2022 && $0.source == .kcqg })
        let revised = Seed.update(
            original.province, 2022, 7, .kcqg, plan: original.planVND,
            executed: original.executedVND + 2_000 * Seed.million, revision: 2)
        let configuration = AggregatorConfiguration(registries: Seed.registries, rules: Seed.rules)
        let aggregator = Aggregator(configuration: configuration)
        for u in Seed.updates + [revised] { _ = aggregator.apply(u) }
        let out = aggregator.endBatch(at: "2022-08-11T09:00:00Z")
        let bytes = try #require(out.summaries.first { $0.key == "mien-trung-tay-nguyen/2022/2022-07" }?.value)
        let summary = try JSONDecoder().decode(SummaryMessage.self, from: Data(bytes))
        return (revised, VietnameseFormat.percent(summary.by_source?.KCQG?.execution_rate_pct))
    }

    @Test func theDashboardShowsTheSeedAndALiveUpdateInChromium() async throws {
        let topics = try TestTopics("browser")
        let service = try RunningService(arguments: topics.runArguments(worker: 1))
        let port = try await service.port()
        try await topics.produce(Seed.updates)
        try await eventually("the seed on /v1", within: .seconds(60)) {
            try await LoopbackHTTP.fetch(port: port, path: "/v1/summaries?region=mien-trung-tay-nguyen").body
                .contains(#""execution_rate_pct":28.44"#)
        }
        let (update, newRate) = try Self.revision()
        #expect(newRate != "12,11 %")

        let out = Self.packageRoot.appendingPathComponent(".build/test-output/DashboardBrowserTests")
        try? FileManager.default.removeItem(at: out)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let signal = out.appendingPathComponent("ready-for-update")
        let script = Self.packageRoot.appendingPathComponent("Tests/Browser/dashboard_check.py").path
        let browser = Task {
            try await Python.run([
                script, "--url", "http://127.0.0.1:\(port)/", "--row", "mien-trung-tay-nguyen",
                "--expect", "12,11 %", "--expect", "39,38 %", "--expect", "28,44 %", "--expect", "20,7",
                "--after", newRate, "--signal", signal.path, "--out", out.path,
            ])
        }
        do {
            try await eventually("the browser ready for the update", within: .seconds(90)) {
                FileManager.default.fileExists(atPath: signal.path) || browser.isCancelled
            }
            try await topics.produce([update])
        } catch {
            let result = try? await browser.value
            Issue.record("the browser: \(result?.errors ?? "no answer")")
            throw error
        }
        let result = try await browser.value
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.text.contains("update_seen_after_seconds"), "\(result.text)")
        print("browser: \(result.text)")
        for name in ["dashboard.png", "dashboard-phone.png", "region.png"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "\(name)")
        }
        try await service.stop()
    }
}
