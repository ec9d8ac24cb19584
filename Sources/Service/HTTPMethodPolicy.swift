import Hummingbird

/// Every endpoint is read-only: HEAD is answered like GET (headers only, with the body's
/// length), and any other method on a known path gets 405 with `Allow: GET, HEAD` instead of
/// Hummingbird's 404, which would tell a client the resource does not exist.
struct MethodPolicy<Context: RequestContext>: RouterMiddleware {
    static var exactPaths: Set<String> {
        [
            "/", "/healthz", "/readyz", "/metrics", "/v1/summaries", "/v1/alerts", "/v1/events", "/openapi.yaml",
            "/export/bao-cao.csv",
        ]
    }
    static var prefixes: [String] { ["/khu-vuc/", "/export/khu-vuc/", "/static/"] }

    static func isKnown(_ path: String) -> Bool {
        exactPaths.contains(path) || prefixes.contains { path.hasPrefix($0) && path.count > $0.count }
    }

    func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        switch request.method {
        case .get:
            return try await next(request, context)
        case .head:
            var response = try await next(request, context)
            // A body that declares the GET body's length and writes nothing.
            response.body = ResponseBody(contentLength: response.body.contentLength) { writer in
                try await writer.finish(nil)
            }
            return response
        default:
            guard Self.isKnown(request.uri.path) else { return try await next(request, context) }
            var headers = HTTPFields()
            headers[.allow] = "GET, HEAD"
            headers[.contentType] = "application/json"
            let body = #"{"error":"method \#(request.method.rawValue) is not allowed here: use GET or HEAD"}"# + "\n"
            return Response(
                status: .methodNotAllowed, headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
    }
}

/// A router whose every route answers GET and HEAD (the same handler; `MethodPolicy` drops the
/// body of a HEAD answer).
struct ReadOnlyRouter {
    let router = Router()

    init() {
        router.add(middleware: MethodPolicy())
    }

    func get(
        _ path: RouterPath,
        use handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response
    ) {
        router.on(path, method: .get, use: handler)
        router.on(path, method: .head, use: handler)
    }
}
