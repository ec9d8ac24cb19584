import Hummingbird
import ReadSide
import ServiceLifecycle

/// `/v1/events`: Server-Sent Events, one `change` event (data: the read model's version) after
/// each change the read side applied, so a page refreshes within about a second of a commit.
/// A comment every 15 s keeps proxies from closing an idle stream; a stream ends after an hour
/// or at graceful shutdown, and the browser's EventSource reconnects by itself.
enum LiveEvents {
    static let keepAlive = Duration.seconds(15)
    static let lifetime = Duration.seconds(3600)

    static func response(model: ReadModel) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-store"
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "retry: 1000\nevent: change\ndata: \(model.version)\n\n"))
            let (stream, continuation) = events(model: model)
            try await withGracefulShutdownHandler {
                for await chunk in stream {
                    try await writer.write(ByteBuffer(string: chunk))
                }
            } onGracefulShutdown: {
                continuation.finish()
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// The event text, until `lifetime` passes or the reader stops.
    static func events(model: ReadModel) -> (AsyncStream<String>, AsyncStream<String>.Continuation) {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let changes = model.changes()
        let forward = Task {
            for await version in changes { continuation.yield("event: change\ndata: \(version)\n\n") }
            continuation.finish()
        }
        let ticks = Task {
            let end = ContinuousClock.now + lifetime
            while ContinuousClock.now < end {
                do { try await Task.sleep(for: keepAlive) } catch { return }
                continuation.yield(": keep-alive\n\n")
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in
            forward.cancel()
            ticks.cancel()
        }
        return (stream, continuation)
    }
}
