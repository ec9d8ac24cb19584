import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal blocking HTTP/1.1 client over a loopback socket: enough for the endpoint tests, and
/// free of libcurl (whose signals could disturb other tests running in the same process).
public enum LoopbackHTTP {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    public static func get(port: Int, path: String) throws -> (status: Int, body: String) {
        let answer = try request(port: port, path: path)
        return (answer.status, answer.body)
    }

    /// Any method; `head` is the response's status line and headers, lowercased.
    public static func request(
        port: Int, path: String,
        method: String = "GET"
    ) throws -> (status: Int, head: String, body: String) {
        // Bounded: a server that accepts and never answers fails the test instead of hanging it.
        let fd = try connectedSocket(port: port, timeoutSeconds: 30)
        defer { close(fd) }
        try sendAll(fd, "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw Failure(description: "recv: errno \(errno)") }
            if n == 0 { break }
            response += buffer[..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let headerEnd = text.range(of: "\r\n\r\n"),
            let status = Int(text.split(separator: " ", maxSplits: 2).dropFirst().first ?? "")
        else { throw Failure(description: "not an HTTP response: \(text.prefix(80))") }
        let head = text[..<headerEnd.lowerBound].lowercased()
        var body = String(text[headerEnd.upperBound...])
        if head.contains("transfer-encoding: chunked") { body = dechunk(body) }
        return (status, head, body)
    }

    /// The blocking request on a Dispatch thread: the server's handlers run on the same small
    /// cooperative pool as the tests, which a blocked receive would starve.
    public static func fetch(
        port: Int, path: String,
        method: String = "GET"
    ) async throws -> (status: Int, head: String, body: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try request(port: port, path: path, method: method) })
            }
        }
    }

    /// Joins the chunks of a chunked body.
    public static func dechunk(_ body: String) -> String {
        var rest = Substring(body)
        var out = ""
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let bytes = Array(rest[start...].utf8)
            out += String(decoding: bytes.prefix(size), as: UTF8.self)
            rest = Substring(String(decoding: bytes.dropFirst(size + 2), as: UTF8.self))
        }
        return out
    }

    /// A TCP socket connected to 127.0.0.1:`port`, with receive and send timeouts when
    /// `timeoutSeconds` is given. The caller closes it.
    public static func connectedSocket(port: Int, timeoutSeconds: Int? = nil) throws -> Int32 {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        if let timeoutSeconds {
            var limit = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
            for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
                setsockopt(fd, SOL_SOCKET, option, &limit, socklen_t(MemoryLayout<timeval>.size))
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let failure = Failure(description: "connect: errno \(errno)")
            close(fd)
            throw failure
        }
        return fd
    }

    /// Sends all of `text`, without SIGPIPE when the server has closed (the test process must
    /// not die of it: the error is thrown instead).
    public static func sendAll(_ fd: Int32, _ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { sendWithoutSignal(fd, $0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += n
        }
    }

    private static func sendWithoutSignal(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        #if canImport(Glibc)
        send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        #else
        send(fd, bytes.baseAddress, bytes.count, 0)
        #endif
    }
}
