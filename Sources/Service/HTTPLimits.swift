import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// What one HTTP client may hold of the server: how long it may stay idle or take over a
/// request head, how many connections may be open at once and how large a request may be.
/// Without them, a few hundred idle or half-sent connections took every file descriptor of a
/// process limited to 256 (issue 21): /healthz timed out and the Kafka clients could not connect.
public struct HTTPLimits: Sendable {
    /// A connection with no request part for this long is closed: an idle keep-alive
    /// connection, or a request whose body stalls (Hummingbird's idle timeout).
    public var idleTimeout: Duration
    /// A request head (request line and headers) must be complete this long after its first
    /// byte; otherwise the client gets 408 and the connection is closed.
    public var headerReadTimeout: Duration
    /// Most connections open at once. One more closes the connection that has waited longest
    /// for a request (idle or still sending its head), or itself when every connection is
    /// busy with a request: a probe gets through however many idle connections are held.
    public var maxConnections: Int
    /// Most bytes of a request head; a longer head gets 431 and the connection is closed.
    public var maxHeadBytes: Int
    /// Most bytes of a request body (no endpoint reads one): a larger declared
    /// `Content-Length` gets 413, and a chunked body closes the connection once it passes.
    public var maxBodyBytes: Int

    public init(
        idleTimeout: Duration = .seconds(60), headerReadTimeout: Duration = .seconds(10),
        maxConnections: Int = 128, maxHeadBytes: Int = 16 * 1024, maxBodyBytes: Int = 16 * 1024
    ) {
        self.idleTimeout = idleTimeout
        self.headerReadTimeout = headerReadTimeout
        self.maxConnections = maxConnections
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Hummingbird's HTTP/1 server with these limits.
    func serverBuilder() -> HTTPServerBuilder {
        let limits = self
        return HTTPServerBuilder { responder in
            let maxBody = limits.maxBodyBytes
            let configuration = HTTP1Channel.Configuration(
                additionalChannelHandlers: [RequestBodyLimit(maxBytes: maxBody)],
                idleTimeout: TimeAmount(limits.idleTimeout),
                httpDecoderConfiguration: .init(
                    maxHeaderFieldSize: limits.maxHeadBytes,
                    maxHeaderListSize: limits.maxHeadBytes, maxHeaderFieldCount: 100))
            return LimitedHTTP1Channel(
                base: HTTP1Channel(responder: responder, configuration: configuration),
                limits: limits, connections: ConnectionTable(limit: limits.maxConnections))
        }
    }
}

/// Hummingbird's HTTP/1 channel with `ConnectionGuard` in front of its HTTP decoder.
struct LimitedHTTP1Channel: ServerChildChannel {
    let base: HTTP1Channel
    let limits: HTTPLimits
    let connections: ConnectionTable

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1Channel.Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(ConnectionGuard(limits: limits, connections: connections))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: HTTP1Channel.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// The open connections, and which one to close when there are too many.
///
/// Hand-written: Hummingbird's `MaximumAvailableConnections` only stops accepting at its
/// limit, so a health probe then waits in the listen backlog behind the idle connections
/// until the idle timeout frees them.
final class ConnectionTable: Sendable {
    private struct Entry {
        var channel: any Channel
        var awaitingRequest: Bool
        /// When it began waiting (a counter, not a clock: only the order matters).
        var since: UInt64
    }

    let limit: Int
    private let state = Mutex<(entries: [ObjectIdentifier: Entry], tick: UInt64)>(([:], 0))

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Registers a new connection. Over the limit, returns the connection to close: the one
    /// that has waited longest for a request, or the new one when none is waiting.
    func admit(_ id: ObjectIdentifier, _ channel: any Channel) -> (any Channel)? {
        state.withLock { s in
            s.tick += 1
            s.entries[id] = Entry(channel: channel, awaitingRequest: true, since: s.tick)
            guard s.entries.count > limit else { return nil }
            var victim = id
            var oldest = UInt64.max
            for (k, e) in s.entries where k != id && e.awaitingRequest && e.since < oldest {
                victim = k
                oldest = e.since
            }
            return s.entries.removeValue(forKey: victim)?.channel
        }
    }

    func setAwaitingRequest(_ id: ObjectIdentifier, _ awaiting: Bool) {
        state.withLock { s in
            guard s.entries[id] != nil, s.entries[id]?.awaitingRequest != awaiting else { return }
            s.tick += 1
            s.entries[id]?.awaitingRequest = awaiting
            s.entries[id]?.since = s.tick
        }
    }

    func remove(_ id: ObjectIdentifier) {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }

    var count: Int { state.withLock { $0.entries.count } }
}

/// First in the pipeline, on raw bytes: registers the connection in the table, bounds the time
/// and size of each request head, and tells the table whether the connection waits for one.
///
/// Hand-written: Hummingbird's idle timer restarts on every request part and has no limit on
/// the head as a whole (the decoder bounds only its header fields, not the request line).
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private enum Phase { case awaitingRequest, readingHead, headRead, closing }

    private let limits: HTTPLimits
    private let connections: ConnectionTable
    private var phase = Phase.awaitingRequest
    private var headBytes = 0
    /// How many bytes of "\r\n\r\n" the head's last bytes match.
    private var matched = 0
    private var timer: Scheduled<Void>?
    private var registered = false

    init(limits: HTTPLimits, connections: ConnectionTable) {
        self.limits = limits
        self.connections = connections
    }

    private var id: ObjectIdentifier { ObjectIdentifier(self) }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { register(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        register(context)
        context.fireChannelActive()
    }

    private func register(_ context: ChannelHandlerContext) {
        guard !registered else { return }
        registered = true
        connections.admit(id, context.channel)?.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        connections.remove(id)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        connections.remove(id)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard phase != .closing else { return }
        if phase != .headRead {
            let buffer = unwrapInboundIn(data)
            for b in buffer.readableBytesView {
                if phase == .awaitingRequest { startHead(context) }
                headBytes += 1
                if headBytes > limits.maxHeadBytes {
                    return reject(context, "431 Request Header Fields Too Large")
                }
                let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
                switch (b, matched) {
                case (cr, 0), (cr, 2), (lf, 1), (lf, 3): matched += 1
                case (cr, _): matched = 1
                default: matched = 0
                }
                if matched == 4 {
                    // The rest of this read is a body or a pipelined request: the decoder's.
                    phase = .headRead
                    timer?.cancel()
                    connections.setAwaitingRequest(id, false)
                    break
                }
            }
        }
        context.fireChannelRead(data)
    }

    private func startHead(_ context: ChannelHandlerContext) {
        phase = .readingHead
        headBytes = 0
        matched = 0
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limits.headerReadTimeout)) { [self] in
            if phase == .readingHead { reject(context, "408 Request Timeout") }
        }
    }

    /// Answers with `status` and closes, reading nothing more.
    private func reject(_ context: ChannelHandlerContext, _ status: String) {
        phase = .closing
        timer?.cancel()
        let text = "HTTP/1.1 \(status)\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer(string: text))), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// A response (or part of one) ends the request: the connection waits for the next.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if phase == .headRead || phase == .readingHead {
            phase = .awaitingRequest
            timer?.cancel()
            connections.setAwaitingRequest(id, true)
        }
        context.write(data, promise: promise)
    }
}

/// After the HTTP decoder: a request body larger than allowed gets 413 when its length is
/// declared, and closes the connection when it is chunked and passes the limit.
///
/// Hand-written: Hummingbird bounds a body only where a handler collects it, and after the
/// response it reads (drains) whatever body is left, however long.
final class RequestBodyLimit: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let maxBytes: Int
    private var bodyBytes = 0
    private var refused = false

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            bodyBytes = 0
            if let declared = head.headerFields[.contentLength], let length = Int(declared), length > maxBytes {
                refused = true
                let response = HTTPResponse(
                    status: .contentTooLarge,
                    headerFields: [.connection: "close", .contentLength: "0"])
                context.write(wrapOutboundOut(.head(response)), promise: nil)
                let promise = context.eventLoop.makePromise(of: Void.self)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
                promise.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                return
            }
        case .body(let chunk):
            bodyBytes += chunk.readableBytes
            if bodyBytes > maxBytes {
                refused = true
                context.close(promise: nil)
                return
            }
        case .end:
            break
        }
        context.fireChannelRead(data)
    }
}
