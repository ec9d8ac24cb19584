import Foundation
import Logging
import Prometheus
import ReadSide
import Service
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The HTTP server against hostile clients on loopback (issue 21): idle, half-sent, slow and
/// oversized requests, and more connections than allowed. Short limits keep each test under a
/// few seconds; every wait is bounded.
@Suite struct HTTPLimitsTests {
    static let short = HTTPLimits(
        idleTimeout: .milliseconds(800), headerReadTimeout: .milliseconds(300),
        maxConnections: 16, maxHeadBytes: 4096, maxBodyBytes: 1024)

    /// Runs `client` against a server with `limits`. The client blocks on sockets, so it runs
    /// on a thread of its own: on the cooperative pool (two threads here) it could starve the
    /// server it is waiting for.
    func withServer(_ limits: HTTPLimits, _ client: @escaping @Sendable (Int) throws -> Void) async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let model = ReadModel()
        model.setReadiness(.ready)
        let app = try HTTPServer.makeApplication(
            host: "127.0.0.1", port: 0, endpoints: HTTPEndpoints(model: model),
            metrics: PrometheusCollectorRegistry(),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            limits: limits
        ) { port in continuation.yield(port) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            try await onThread { try client(port) }
            group.cancelAll()
        }
    }

    @Test func halfSentRequestGets408AndIsClosed() async throws {
        try await withServer(Self.short) { port in
            let client = try RawClient(port: port)
            try client.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Stall: ")
            let (answer, closed) = client.readUntilClosed(within: 5)
            #expect(closed, "a stalled request head is closed")
            #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
        }
    }

    @Test func slowDripHeadIsClosedAtTheHeaderTimeout() async throws {
        try await withServer(Self.short) { port in
            let client = try RawClient(port: port)
            let start = ContinuousClock.now
            var closed = false
            // One byte per 50 ms keeps the idle timer alive, but not the head's deadline.
            for b in "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + String(repeating: "a", count: 200) {
                if client.isClosed(waitingMilliseconds: 50) { closed = true; break }
                try? client.send(String(b))
            }
            #expect(closed)
            #expect(ContinuousClock.now - start < .seconds(5))
        }
    }

    @Test func idleConnectionIsClosed() async throws {
        try await withServer(Self.short) { port in
            let silent = try RawClient(port: port)
            let keptAlive = try RawClient(port: port)
            try keptAlive.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(silent.readUntilClosed(within: 5).closed)
            let (answer, closed) = keptAlive.readUntilClosed(within: 5)
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
            #expect(closed, "a kept-alive connection is closed once idle")
        }
    }

    /// 300 idle or half-sent connections, far more than the limit: the server closes what is
    /// over it at once and /healthz still answers.
    @Test func manyIdleConnectionsLeaveHealthzAnswering() async throws {
        let limits = HTTPLimits(idleTimeout: .seconds(30), headerReadTimeout: .seconds(30), maxConnections: 16)
        try await withServer(limits) { port in
            var clients: [RawClient] = []
            for i in 0..<300 {
                let c = try RawClient(port: port)
                if i % 2 == 1 { try c.send("GET /healthz HTTP/1.1\r\nHost: ") }
                clients.append(c)
            }
            let (status, body) = try LoopbackHTTP.get(port: port, path: "/healthz")
            #expect(status == 200 && body == "ok\n")
            // All but the limit are closed by the server, without waiting for any timeout.
            let deadline = ContinuousClock.now + .seconds(10)
            var open = clients
            while open.count > limits.maxConnections, ContinuousClock.now < deadline {
                open.removeAll { $0.isClosed(waitingMilliseconds: 0) }
                if open.count > limits.maxConnections, let oldest = open.first,
                    oldest.isClosed(waitingMilliseconds: 20)
                {
                    open.removeFirst()
                }
            }
            #expect(open.count <= limits.maxConnections, "\(open.count) of 300 hostile connections still open")
        }
    }

    @Test func newConnectionOverTheLimitClosesTheLongestWaiting() async throws {
        let limits = HTTPLimits(idleTimeout: .seconds(30), headerReadTimeout: .seconds(30), maxConnections: 3)
        try await withServer(limits) { port in
            let first = try RawClient(port: port)
            #expect(!first.isClosed(waitingMilliseconds: 100))  // accepted meanwhile
            // Held open, so the fourth connection is over the limit whatever order they are accepted in.
            let others = [try RawClient(port: port), try RawClient(port: port), try RawClient(port: port)]
            #expect(first.readUntilClosed(within: 5).closed, "the longest-waiting connection made room")
            let status = try LoopbackHTTP.get(port: port, path: "/healthz").status
            #expect(status == 200)
            #expect(others.count == 3)
        }
    }

    @Test func oversizedHeadGets431() async throws {
        try await withServer(Self.short) { port in
            let client = try RawClient(port: port)
            let big = String(repeating: "b", count: 5000)
            try client.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: \(big)\r\n\r\n")
            let (answer, closed) = client.readUntilClosed(within: 5)
            #expect(answer.hasPrefix("HTTP/1.1 431"), "\(answer.prefix(80))")
            #expect(closed)
        }
    }

    @Test func declaredLargeBodyGets413() async throws {
        try await withServer(Self.short) { port in
            let client = try RawClient(port: port)
            try client.send("POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n")
            let (answer, closed) = client.readUntilClosed(within: 5)
            #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer.prefix(80))")
            #expect(closed)
        }
    }

    @Test func chunkedBodyOverTheLimitIsClosed() async throws {
        try await withServer(Self.short) { port in
            let client = try RawClient(port: port)
            try client.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
            let chunk = "100\r\n" + String(repeating: "c", count: 256) + "\r\n"
            var closed = false
            for _ in 0..<64 where !closed {  // 16 KiB in all, the limit is 1 KiB
                try? client.send(chunk)
                closed = client.isClosed(waitingMilliseconds: 10)
            }
            #expect(closed || client.readUntilClosed(within: 5).closed)
        }
    }

    @Test func normalRequestsStillWork() async throws {
        try await withServer(Self.short) { port in
            for path in ["/healthz", "/readyz", "/v1/alerts"] {
                let status = try LoopbackHTTP.get(port: port, path: path).status
                #expect(status == 200, "\(path)")
            }
        }
    }
}

/// Runs blocking work on a new thread and waits for it without holding a cooperative thread.
func onThread(_ body: @escaping @Sendable () throws -> Void) async throws {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// A raw loopback TCP client: sends what it is told and reports when the server closes.
final class RawClient: @unchecked Sendable {
    let fd: Int32
    private var received: [UInt8] = []

    init(port: Int) throws {
        fd = try LoopbackHTTP.connectedSocket(port: port)
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        try LoopbackHTTP.sendAll(fd, text)
    }

    /// Waits up to `milliseconds` for data or the end; true once the server has closed.
    func isClosed(waitingMilliseconds milliseconds: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, milliseconds) > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if n > 0 {
            received += buffer[..<n]
            return false
        }
        return n == 0 || (errno != EAGAIN && errno != EINTR)
    }

    /// Everything received until the server closes, or `seconds` pass.
    func readUntilClosed(within seconds: Int) -> (text: String, closed: Bool) {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var closed = false
        while !closed, ContinuousClock.now < deadline {
            closed = isClosed(waitingMilliseconds: 50)
        }
        return (String(decoding: received, as: UTF8.self), closed)
    }
}
