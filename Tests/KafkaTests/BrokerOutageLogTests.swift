@testable import Kafka
import Testing

/// One warning per broker outage, however many clients and connections report it.
@Suite struct BrokerOutageLogTests {
    @Test func reportsOfOneBrokerShareAKey() {
        let key = "127.0.0.1:44089"
        #expect(
            BrokerOutageLog.outageKey(
                code: "_TRANSPORT",
                message: "127.0.0.1:44089/1: Connect to ipv4#127.0.0.1:44089 failed: Connection refused") == key)
        #expect(
            BrokerOutageLog.outageKey(
                code: "_TRANSPORT",
                message: "GroupCoordinator: 127.0.0.1:44089: Disconnected (after 7757ms in state UP)") == key)
        #expect(BrokerOutageLog.outageKey(code: "_ALL_BROKERS_DOWN", message: "3/3 brokers are down") == "all")
        #expect(BrokerOutageLog.outageKey(code: "_MSG_TIMED_OUT", message: "x: y") == nil)
    }

    @Test func theFirstReportWarnsAndRepeatsWithinTheWindowDoNot() {
        let broker = "203.0.113.\(Int.random(in: 1...250)):9092"
        let t0 = ContinuousClock.now
        #expect(BrokerOutageLog.shouldWarn(code: "_TRANSPORT", message: "\(broker)/1: Disconnected", now: t0))
        let viaCoordinator = "TxnCoordinator: \(broker): Connect failed"
        #expect(!BrokerOutageLog.shouldWarn(code: "_TRANSPORT", message: viaCoordinator, now: t0 + .seconds(1)))
        let again = "\(broker)/1: Connect failed"
        #expect(!BrokerOutageLog.shouldWarn(code: "_TRANSPORT", message: again, now: t0 + .seconds(59)))
        #expect(
            BrokerOutageLog.shouldWarn(code: "_TRANSPORT", message: again, now: t0 + .seconds(61)), "a later outage")
        #expect(BrokerOutageLog.shouldWarn(code: "_MSG_TIMED_OUT", message: "any", now: t0), "other errors always warn")
    }
}
