import Domain
import Hummingbird
import Logging
import Prometheus

/// What the HTTP endpoints ask the worker. Closures, so wiring a worker is a few lines and
/// tests can answer with fixed data.
public struct WorkerQueries: Sendable {
    /// True once the worker has joined its group and restored its state.
    public var isReady: @Sendable () async -> Bool
    /// A JSON array of contract summaries matching the (optional) filters; nil when the worker
    /// holds no aggregation state.
    public var summaries: @Sendable (_ region: String?, _ year: Int?, _ period: YearMonth?) async throws -> [UInt8]?
    /// A JSON array of contract alerts: the active ones, or all; nil as for `summaries`.
    public var alerts: @Sendable (_ activeOnly: Bool) async throws -> [UInt8]?

    public init(
        isReady: @escaping @Sendable () async -> Bool,
        summaries: @escaping @Sendable (_ region: String?, _ year: Int?, _ period: YearMonth?) async throws -> [UInt8]?,
        alerts: @escaping @Sendable (_ activeOnly: Bool) async throws -> [UInt8]?
    ) {
        self.isReady = isReady
        self.summaries = summaries
        self.alerts = alerts
    }
}

/// /healthz, /readyz, /metrics, /v1/summaries, /v1/alerts.
public enum HTTPServer {
    public static let regionIDs = RegionID.allCases.map(\.rawValue) + ["ca-nuoc"]

    /// The Hummingbird application (a swift-service-lifecycle `Service`). `onRunning` receives
    /// the bound port (useful with port 0).
    public static func makeApplication(
        host: String,
        port: Int,
        queries: WorkerQueries,
        metrics: PrometheusCollectorRegistry,
        logger: Logger,
        limits: HTTPLimits = HTTPLimits(),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: makeRouter(queries: queries, metrics: metrics),
            server: limits.serverBuilder(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "khuyencong"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    static func makeRouter(queries: WorkerQueries, metrics: PrometheusCollectorRegistry) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in text(.ok, "ok\n") }
        router.get("/readyz") { _, _ in
            await queries.isReady() ? text(.ok, "ready\n") : text(.serviceUnavailable, "not ready: joining the group or restoring state\n")
        }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
        router.get("/v1/summaries") { request, _ in
            let query = request.uri.queryParameters
            let region = query["region"].map(String.init)
            if let region, !regionIDs.contains(region) {
                return problem("region must be one of \(regionIDs.joined(separator: ", "))")
            }
            var year: Int?
            if let text = query["year"] {
                guard let y = Int(text), (2000...2100).contains(y) else { return problem("year must be an integer from 2000 to 2100") }
                year = y
            }
            var period: YearMonth?
            if let text = query["period"] {
                guard let p = YearMonth(String(text)) else { return problem("period must be YYYY-MM, e.g. 2022-07") }
                period = p
            }
            return state(try await queries.summaries(region, year, period))
        }
        router.get("/v1/alerts") { request, _ in
            switch request.uri.queryParameters["state"].map(String.init) ?? "active" {
            case "active": state(try await queries.alerts(true))
            case "all": state(try await queries.alerts(false))
            default: problem("state must be active or all")
            }
        }
        return router
    }

    private static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    private static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// 400 with `{"error": "..."}`.
    private static func problem(_ message: String, status: HTTPResponse.Status = .badRequest) -> Response {
        json(Array(#"{"error":"\#(message)"}"#.utf8) + [0x0A], status: status)
    }

    /// The answer, or 503 when this worker holds no aggregation state: an empty list would
    /// look like "nothing reported" to a caller that reached the wrong worker.
    private static func state(_ answer: [UInt8]?) -> Response {
        guard let answer else {
            return problem("this worker holds no aggregation state: another worker of the group aggregates, or the state is "
                           + "being restored. Ask the aggregating worker, or read the summaries and alerts topics", status: .serviceUnavailable)
        }
        return json(answer)
    }
}
