@testable import Service
import Testing

/// `make run` prints the dashboard's address beside the live table.
@Suite struct DashboardAddressTests {
    @Test func theAddressABrowserOnThisMachineOpens() {
        let address = DashboardAddress()
        #expect(address.current == nil)
        #expect(address.set(host: "0.0.0.0", port: 8080) == "http://127.0.0.1:8080/")
        #expect(address.set(host: "::1", port: 9000) == "http://[::1]:9000/")
        #expect(address.set(host: "127.0.0.1", port: 41234) == "http://127.0.0.1:41234/")
        #expect(address.current == "http://127.0.0.1:41234/")
    }

    @Test func theLiveTableShowsIt() {
        var table = LiveTable(bootstrap: "127.0.0.1:9092", inputTopic: "in")
        #expect(!table.render().contains("Dashboard"))
        table.dashboardURL = "http://127.0.0.1:41234/"
        #expect(
            table.render().split(separator: "\n").contains("Dashboard (live, in a browser): http://127.0.0.1:41234/"))
    }
}
