@testable import Kafka
import Foundation
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(1))) struct EmbeddedBrokerTests {
    /// With Nagle on (the mock's default), a client with several requests in flight waited for
    /// delayed ACKs: the bench's latency phase measured p50 240 ms instead of 33 ms.
    @Test func theBrokersSideOfAConnectionHasNagleOff() async throws {
        let broker = try EmbeddedBroker(brokers: 1, logger: quietLogger)
        let port = try #require(broker.bootstrapServers.split(separator: ":").last.flatMap { UInt16($0) })
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(connected == 0)

        // The mock's thread accepts the connection: its socket is one of this process's descriptors.
        var accepted: Int32?
        try await eventually("the broker's accepted connection", within: .seconds(10), every: .milliseconds(5)) {
            accepted = EmbeddedBroker.openDescriptors().first {
                $0 != client && EmbeddedBroker.listeningPort($0) == nil && EmbeddedBroker.localPort($0) == port
            }
            return accepted != nil
        }
        let fd = try #require(accepted, "the broker accepted the connection")
        var noDelay: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, &length) == 0)
        #expect(noDelay == 1)
    }
}
