#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal blocking HTTP/1.1 GET over a loopback socket: enough for the endpoint tests, and
/// free of libcurl (whose signals could disturb other tests running in the same process).
/// The same minimal client as ServiceTests' (test targets cannot share a file).
enum LoopbackHTTP {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func get(port: Int, path: String) throws -> (status: Int, body: String) {
        let answer = try request(port: port, path: path)
        return (answer.status, answer.body)
    }

    /// Any method; `head` is the response's status line and headers, lowercased.
    static func request(port: Int, path: String,
                        method: String = "GET") throws -> (status: Int, head: String, body: String) {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        // Bounded: a server that accepts and never answers fails the test instead of hanging it.
        var limit = timeval(tv_sec: 30, tv_usec: 0)
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            setsockopt(fd, SOL_SOCKET, option, &limit, socklen_t(MemoryLayout<timeval>.size))
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
        guard connected == 0 else { throw Failure(description: "connect: errno \(errno)") }
        let request = Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += n
        }
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

    /// Joins the chunks of a chunked body.
    static func dechunk(_ body: String) -> String {
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
}

import Dispatch

extension LoopbackHTTP {
    /// The blocking request on a Dispatch thread: the server's handlers run on the same small
    /// cooperative pool as the tests, which a blocked receive would starve.
    static func fetch(port: Int, path: String,
                      method: String = "GET") async throws -> (status: Int, head: String, body: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try request(port: port, path: path, method: method) })
            }
        }
    }
}
