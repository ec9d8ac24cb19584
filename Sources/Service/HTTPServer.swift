import Dashboard
import Domain
import Hummingbird
import Logging
import Prometheus
import ReadSide

/// What the HTTP endpoints serve: the read model (every process has one), and for `run` the
/// worker's own readiness on top of the read model's.
public struct HTTPEndpoints: Sendable {
    public var model: ReadModel
    /// nil when the process is ready as far as it is concerned, else why not (the worker has not
    /// joined its group yet); `serve` has none.
    public var otherReadiness: @Sendable () async -> String?
    /// nil while the process is alive, else why not (the worker's batch loop is stuck or stopped
    /// on a fatal error): `/healthz` answers 503 with it. `serve` has none.
    public var liveness: @Sendable () async -> String?

    public init(
        model: ReadModel, otherReadiness: @escaping @Sendable () async -> String? = { nil },
        liveness: @escaping @Sendable () async -> String? = { nil }
    ) {
        self.model = model
        self.otherReadiness = otherReadiness
        self.liveness = liveness
    }
}

/// /healthz, /readyz, /metrics, /v1/summaries, /v1/alerts, /v1/events, the dashboard (/,
/// /khu-vuc/{region}), its exports (/export/...) and assets, /openapi.yaml.
public enum HTTPServer {
    public static let regionIDs = RegionID.allCases.map(\.rawValue) + ["ca-nuoc"]

    /// The Hummingbird application (a swift-service-lifecycle `Service`). `onRunning` receives
    /// the bound port (useful with port 0).
    public static func makeApplication(
        host: String,
        port: Int,
        endpoints: HTTPEndpoints,
        metrics: PrometheusCollectorRegistry,
        logger: Logger,
        limits: HTTPLimits = HTTPLimits(),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        Application(
            router: try makeRouter(endpoints: endpoints, metrics: metrics),
            server: limits.serverBuilder(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "khuyencong"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    static func makeRouter(
        endpoints: HTTPEndpoints,
        metrics: PrometheusCollectorRegistry
    ) throws -> Router<BasicRequestContext> {
        let model = endpoints.model
        let pages = try DashboardPages()
        let router = ReadOnlyRouter()
        router.get("/healthz") { _, _ in
            if let problem = await endpoints.liveness() { return text(.serviceUnavailable, "not live: \(problem)\n") }
            return text(.ok, "ok\n")
        }
        router.get("/readyz") { _, _ in
            let readiness = model.readiness
            guard readiness.isReady else { return text(.serviceUnavailable, readiness.explanation + "\n") }
            if let other = await endpoints.otherReadiness() {
                return text(.serviceUnavailable, "not ready: \(other)\n")
            }
            return text(.ok, "ready\n")
        }
        router.get("/metrics") { _, _ in
            model.flushAlertSeries()
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer()))
            )
        }
        router.get("/v1/summaries") { request, _ in
            let query = request.uri.queryParameters
            let region = query["region"].map(String.init)
            if let region, !regionIDs.contains(region) {
                return problem("region must be one of \(regionIDs.joined(separator: ", "))")
            }
            var year: Int?
            if let text = query["year"] {
                guard let y = StrictInteger.parse(String(text), in: FiscalYear.range) else {
                    return problem(
                        "year must be an integer from \(FiscalYear.range.lowerBound) to "
                            + "\(FiscalYear.range.upperBound), written without sign or leading zeros"
                    )
                }
                year = y
            }
            var period: YearMonth?
            if let text = query["period"] {
                guard let p = YearMonth(String(text)) else { return problem("period must be YYYY-MM, e.g. 2022-07") }
                period = p
            }
            if let unready = unready(model) { return unready }
            return json(jsonArray(model.summaries(region: region, year: year, period: period).map(\.bytes)))
        }
        router.get("/v1/alerts") { request, _ in
            let activeOnly: Bool
            switch request.uri.queryParameters["state"].map(String.init) ?? "active" {
            case "active": activeOnly = true
            case "all": activeOnly = false
            default: return problem("state must be active or all")
            }
            if let unready = unready(model) { return unready }
            return json(jsonArray(model.alerts(activeOnly: activeOnly).map(\.bytes)))
        }
        router.get("/v1/events") { _, _ in LiveEvents.response(model: model) }
        router.get("/openapi.yaml") { _, _ in
            guard let document = OpenAPIDocument.yaml else {
                return text(.notFound, "the OpenAPI document is missing\n")
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: document)))
        }

        // The dashboard: pages, exports, assets.
        let latestOfYear = { @Sendable (year: Int) in model.periods().last { $0.year == year } }
        router.get("/") { request, _ in
            switch PeriodQuery.parse(request.uri.queryParameters, latest: latestOfYear) {
            case .failure(let error): html(pages.error(error.message, model: model), status: .badRequest)
            case .success(let period): html(pages.report(model: model, period: period))
            }
        }
        router.get("/khu-vuc/:region") { request, context in
            guard let scope = SummaryScope(id: context.parameters.get("region") ?? "") else {
                return html(
                    pages.error(
                        "Không có khu vực này. Chọn một trong: \(regionIDs.joined(separator: ", ")).",
                        model: model), status: .notFound)
            }
            let latest = { (year: Int) in model.summaries(region: scope.id, year: year).last?.period }
            switch PeriodQuery.parse(request.uri.queryParameters, latest: latest) {
            case .failure(let error): return html(pages.error(error.message, model: model), status: .badRequest)
            case .success(let period): return html(pages.region(model: model, scope: scope, period: period))
            }
        }
        router.get("/export/bao-cao.csv") { request, _ in
            switch PeriodQuery.parse(request.uri.queryParameters, latest: latestOfYear) {
            case .failure(let error): return problem(error.message)
            case .success(let requested):
                let period = requested ?? model.periods().last ?? YearMonth(year: 2025, month: 1)
                return csv(CSVExport.report(ReportTable(model: model, period: period)), name: "bao-cao-\(period).csv")
            }
        }
        router.get("/export/khu-vuc/:file") { request, context in
            let file = context.parameters.get("file") ?? ""
            guard file.hasSuffix(".csv"), let scope = SummaryScope(id: String(file.dropLast(4))) else {
                let files = regionIDs.map { $0 + ".csv" }.joined(separator: ", ")
                return problem("unknown region: the file must be one of \(files)", status: .notFound)
            }
            let latest = { (year: Int) in model.summaries(region: scope.id, year: year).last?.period }
            switch PeriodQuery.parse(request.uri.queryParameters, latest: latest) {
            case .failure(let error): return problem(error.message)
            case .success(let requested):
                let period =
                    requested ?? model.summaries(region: scope.id).last?.period
                    ?? YearMonth(year: 2025, month: 1)
                return csv(
                    CSVExport.provinces(RegionReport(model: model, scope: scope, period: period)),
                    name: "\(scope.id)-\(period).csv")
            }
        }
        router.get("/static/:name") { _, context in
            guard let asset = DashboardPages.asset(context.parameters.get("name") ?? "") else {
                return text(.notFound, "not found\n")
            }
            var headers = HTTPFields()
            headers[.contentType] = asset.contentType
            headers[.cacheControl] = "no-cache"
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
        }
        return router.router
    }

    /// 503 while the read model has not caught up: a partial list would read as "not reported".
    private static func unready(_ model: ReadModel) -> Response? {
        let readiness = model.readiness
        return readiness.isReady ? nil : problem(readiness.explanation, status: .serviceUnavailable)
    }

    static func jsonArray(_ objects: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (i, object) in objects.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += object
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    private static func html(_ page: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }

    private static func csv(_ bytes: [UInt8], name: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8; header=present"
        headers[.contentDisposition] = #"attachment; filename="\#(name)""#
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `{"error": "..."}` (400 unless told).
    static func problem(_ message: String, status: HTTPResponse.Status = .badRequest) -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("error")
        writer.string(message)
        writer.endObject()
        return json(writer.bytes + [0x0A], status: status)
    }
}
