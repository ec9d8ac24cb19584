import Domain
import Foundation
import Logging
import Prometheus
import Service
import Synchronization
import Testing

/// Runs the real server on an ephemeral loopback port.
@Suite struct HTTPServerTests {
    final class FakeWorker: Sendable {
        let ready = Mutex(false)
        let holdsState = Mutex(true)
        let calls = Mutex<[String]>([])

        var queries: WorkerQueries {
            WorkerQueries(
                isReady: { self.ready.withLock { $0 } },
                summaries: { region, year, period in
                    self.calls.withLock { $0.append("summaries \(region ?? "-") \(year.map(String.init) ?? "-") \(period?.description ?? "-")") }
                    return self.holdsState.withLock { $0 } ? Array(#"[{"region":"bac"}]"#.utf8) : nil
                },
                alerts: { activeOnly in
                    self.calls.withLock { $0.append("alerts \(activeOnly)") }
                    return self.holdsState.withLock { $0 } ? Array("[]".utf8) : nil
                }
            )
        }
    }

    func withServer(_ worker: FakeWorker, metrics: PrometheusCollectorRegistry, _ body: @Sendable (Int) async throws -> Void) async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = HTTPServer.makeApplication(host: "127.0.0.1", port: 0, queries: worker.queries, metrics: metrics,
                                             logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }) { port in continuation.yield(port) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            try await body(port)
            group.cancelAll()
        }
    }

    func get(_ port: Int, _ path: String) async throws -> (Int, String) {
        try LoopbackHTTP.get(port: port, path: path)
    }

    @Test func endpoints() async throws {
        let worker = FakeWorker()
        let metrics = PrometheusCollectorRegistry()
        metrics.makeCounter(descriptor: MetricNameDescriptor(metricName: "khuyencong_updates", unitName: "consumed_total", helpText: "test")).increment(by: Int64(3))
        try await withServer(worker, metrics: metrics) { port in
            #expect(try await get(port, "/healthz").0 == 200)
            #expect(try await get(port, "/readyz").0 == 503)
            worker.ready.withLock { $0 = true }
            #expect(try await get(port, "/readyz").0 == 200)

            let (status, body) = try await get(port, "/metrics")
            #expect(status == 200)
            #expect(body.contains("khuyencong_updates_consumed_total 3"))

            let summaries = try await get(port, "/v1/summaries?region=mien-trung-tay-nguyen&year=2022&period=2022-07")
            #expect(summaries.0 == 200 && summaries.1 == #"[{"region":"bac"}]"#)
            #expect(try await get(port, "/v1/summaries").0 == 200)
            #expect(try await get(port, "/v1/alerts").0 == 200)
            #expect(try await get(port, "/v1/alerts?state=all").0 == 200)
            #expect(worker.calls.withLock { $0 } == [
                "summaries mien-trung-tay-nguyen 2022 2022-07", "summaries - - -", "alerts true", "alerts false",
            ])

            for bad in ["/v1/summaries?region=north", "/v1/summaries?year=99", "/v1/summaries?period=2022-13", "/v1/alerts?state=resolved"] {
                let (code, text) = try await get(port, bad)
                #expect(code == 400, "\(bad)")
                #expect(text.contains(#""error""#))
            }
            #expect(worker.calls.withLock { $0.count } == 4)

            // A worker without the aggregation state says so; an empty list would read as "nothing reported".
            worker.holdsState.withLock { $0 = false }
            for path in ["/v1/summaries", "/v1/alerts"] {
                let (code, text) = try await get(port, path)
                #expect(code == 503, "\(path)")
                #expect(text.contains("holds no aggregation state"), "\(text)")
            }
        }
    }
}
