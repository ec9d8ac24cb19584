import Domain
import Foundation
import Logging
import Prometheus
import ReadSide
@testable import Service
import Synchronization
import Testing
import TestSupport

/// Runs the real server on an ephemeral loopback port, over a read model filled by hand.
@Suite struct HTTPServerTests {
    final class OtherReadiness: Sendable {
        let reason = Mutex<String?>(nil)
        let liveness = Mutex<String?>(nil)
    }

    func withServer(
        _ model: ReadModel, other: OtherReadiness = OtherReadiness(),
        metrics: PrometheusCollectorRegistry = .init(),
        _ body: @Sendable (Int) async throws -> Void
    ) async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let endpoints = HTTPEndpoints(
            model: model, otherReadiness: { other.reason.withLock { $0 } },
            liveness: { other.liveness.withLock { $0 } })
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let app = try HTTPServer.makeApplication(
            host: "127.0.0.1", port: 0, endpoints: endpoints, metrics: metrics,
            logger: logger
        ) { port in
            continuation.yield(port)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            try await body(port)
            group.cancelAll()
        }
    }

    func get(_ port: Int, _ path: String) async throws -> (Int, String) {
        let answer = try await LoopbackHTTP.fetch(port: port, path: path)
        return (answer.status, answer.body)
    }

    static func summary(_ region: String, _ period: String, revision: Int = 1) -> [UInt8] {
        Array(
            #"{"schema":"khuyencong.regional-summary.v1","region":"\#(region)","fiscal_year":\#(period.prefix(4)),"#
                .utf8) + Array(#""period_end":"\#(period)","revision":\#(revision)}"#.utf8)
    }

    static func alert(_ key: String, state: String) -> [UInt8] {
        Array(
            (#"{"schema":"khuyencong.alert.v1","alert_id":"\#(key)","state":"\#(state)","severity":"warning","#
                + #""scope":{"level":"national","code":"VN","name":"Cả nước"},"fiscal_year":2022,"#
                + #""period_end":"2022-07","source":"total","execution_rate_pct":30.00,"threshold_pct":35.00}"#).utf8)
    }

    static func filledModel() throws -> ReadModel {
        let model = ReadModel()
        for (region, period) in [("nam", "2022-07"), ("bac", "2022-07"), ("bac", "2021-12"), ("ca-nuoc", "2022-07")] {
            try model.apply(summaryKey: "\(region)/\(period.prefix(4))/\(period)", value: summary(region, period))
        }
        try model.apply(alertKey: "national/2022/total", value: alert("national/2022/total", state: "raised"))
        try model.apply(alertKey: "national/2021/total", value: alert("national/2021/total", state: "resolved"))
        return model
    }

    @Test func endpointsServeTheReadModel() async throws {
        let model = try Self.filledModel()
        let other = OtherReadiness()
        let metrics = PrometheusCollectorRegistry()
        metrics.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "khuyencong_updates", unitName: "consumed_total", helpText: "test")
        ).increment(by: Int64(3))
        try await withServer(model, other: other, metrics: metrics) { port in
            #expect(try await get(port, "/healthz").0 == 200)
            // Not ready until the read model caught up; /v1 says so instead of answering part of the state.
            let readyz = try await get(port, "/readyz")
            #expect(readyz.0 == 503 && readyz.1.contains("the read side is starting"), "\(readyz)")
            let early = try await get(port, "/v1/summaries")
            #expect(early.0 == 503 && early.1.contains(#""error""#))
            model.setReadiness(.failed("topic khuyencong.alerts.v1: UNKNOWN_TOPIC_OR_PART"))
            #expect(try await get(port, "/readyz").1.contains("UNKNOWN_TOPIC_OR_PART"))
            model.setReadiness(.ready)
            other.reason.withLock { $0 = "the worker is joining its group" }
            #expect(try await get(port, "/readyz") == (503, "not ready: the worker is joining its group\n"))
            other.reason.withLock { $0 = nil }
            #expect(try await get(port, "/readyz").0 == 200)
            // Liveness: the worker's verdict, whatever the readiness.
            other.liveness.withLock { $0 = "the batch loop has made no progress for 61 s" }
            let stuck = try await get(port, "/healthz")
            #expect(stuck == (503, "not live: the batch loop has made no progress for 61 s\n"))
            other.liveness.withLock { $0 = nil }
            #expect(try await get(port, "/healthz") == (200, "ok\n"))

            let (status, body) = try await get(port, "/metrics")
            #expect(status == 200)
            #expect(body.contains("khuyencong_updates_consumed_total 3"))

            // Order: region (bac, miền Trung – Tây Nguyên, nam, cả nước), year, period.
            let all = try await get(port, "/v1/summaries")
            let regions = try JSONDecoder().decode([SummaryKey].self, from: Data(all.1.utf8))
                .map { "\($0.region) \($0.period_end)" }
            #expect(regions == ["bac 2021-12", "bac 2022-07", "nam 2022-07", "ca-nuoc 2022-07"])
            let one = try await get(port, "/v1/summaries?region=bac&year=2022&period=2022-07")
            let bac = String(decoding: Self.summary("bac", "2022-07"), as: UTF8.self)
            #expect(one.0 == 200 && one.1 == "[" + bac + "]")
            #expect(try await get(port, "/v1/summaries?region=mien-trung-tay-nguyen").1 == "[]")
            #expect(try await get(port, "/v1/alerts").1.contains("national/2022/total"))
            #expect(!(try await get(port, "/v1/alerts").1.contains("national/2021/total")))
            #expect(try await get(port, "/v1/alerts?state=all").1.contains("national/2021/total"))

            for bad in [
                "/v1/summaries?region=north", "/v1/summaries?year=99", "/v1/summaries?period=2022-13",
                "/v1/alerts?state=resolved", "/v1/summaries?year=%2B2022", "/v1/summaries?year=02022",
                "/v1/summaries?year=%202022", "/v1/summaries?year=2022.0",
            ] {
                let (code, text) = try await get(port, bad)
                #expect(code == 400, "\(bad)")
                #expect(text.contains(#""error""#), "\(bad)")
            }
        }
    }

    @Test func methodsOtherThanGetAndHeadAreRefused() async throws {
        let model = try Self.filledModel()
        model.setReadiness(.ready)
        try await withServer(model) { port in
            for path in ["/v1/summaries", "/v1/alerts", "/", "/khu-vuc/bac", "/export/bao-cao.csv", "/healthz"] {
                let post = try await LoopbackHTTP.fetch(port: port, path: path, method: "POST")
                #expect(post.status == 405, "\(path)")
                #expect(post.head.contains("allow: get, head"), "\(path): \(post.head)")
                let head = try await LoopbackHTTP.fetch(port: port, path: path, method: "HEAD")
                #expect(head.status == 200, "\(path)")
                #expect(head.body.isEmpty, "\(path)")
                let get = try await LoopbackHTTP.fetch(port: port, path: path)
                #expect(head.head.contains("content-length: \(get.body.utf8.count)"), "\(path): \(head.head)")
            }
            #expect(try await LoopbackHTTP.fetch(port: port, path: "/nowhere", method: "DELETE").status == 404)
        }
    }

    @Test func dashboardRejectsBadInputClearly() async throws {
        let model = try Self.filledModel()
        model.setReadiness(.ready)
        try await withServer(model) { port in
            for bad in [
                "/?year=20x2", "/?year=%2B2022", "/?month=7", "/?year=2022&month=13", "/?year=2022&month=07",
                "/khu-vuc/bac?year=1999", "/export/bao-cao.csv?year=2022&month=0",
            ] {
                let (code, text) = try await get(port, bad)
                #expect(code == 400, "\(bad)")
                #expect(!text.contains("Error(") && !text.contains("Fatal"), "\(bad)")
            }
            let unknown = try await get(port, "/khu-vuc/north")
            #expect(unknown.0 == 404 && unknown.1.contains("Không có khu vực này"))
            #expect(try await get(port, "/export/khu-vuc/north.csv").0 == 404)
            // A period with no data is an empty state, not an error.
            let empty = try await get(port, "/?year=2030&month=3")
            #expect(empty.0 == 200 && empty.1.contains("Chưa có số liệu"), "\(empty.1.prefix(300))")
            let emptyRegion = try await get(port, "/khu-vuc/nam?year=2030&month=3")
            #expect(emptyRegion.0 == 200 && emptyRegion.1.contains("Chưa có số liệu"))
        }
    }

    struct SummaryKey: Decodable {
        var region: String
        var period_end: String
    }
}
