import Synchronization

/// The dashboard's URL, known once the HTTP server has bound its port (port 0 picks one).
public final class DashboardAddress: Sendable {
    private let url = Mutex<String?>(nil)

    public init() {}

    /// nil until the server listens.
    public var current: String? { url.withLock { $0 } }

    /// Records the bound address and returns the URL a browser on this machine opens: a
    /// wildcard host is reached on loopback.
    @discardableResult
    func set(host: String, port: Int) -> String {
        let shown =
            switch host {
            case "0.0.0.0", "::", "": "127.0.0.1"
            default: host.contains(":") ? "[\(host)]" : host
            }
        let text = "http://\(shown):\(port)/"
        url.withLock { $0 = text }
        return text
    }
}
