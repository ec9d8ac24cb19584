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
