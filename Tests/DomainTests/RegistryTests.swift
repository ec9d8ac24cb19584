import Testing
@testable import Domain

@Suite struct RegistryTests {
    @Test func bundledRegistriesHaveTheContractSizes() throws {
        let r = try Registries.load()
        #expect(r.r2004.units.count == 63)
        #expect(r.r2025.units.count == 34)
        #expect(r.r2004.units(in: .bac).count == 28)
        #expect(r.r2004.units(in: .mienTrungTayNguyen).count == 15)
        #expect(r.r2004.units(in: .nam).count == 20)
        #expect(r.successor2025(of: "60")?.code == "68")
    }

    /// The contract: registry 2004 up to 2025-06, registry 2025 from 2025-07; FY2025's second
    /// half carries the predecessors' first-half reports.
    @Test func theRegistrySwitchIsAtJuly2025() {
        #expect(RegistryVersion.inForce(at: YearMonth(year: 2025, month: 6)) == .v2004)
        #expect(RegistryVersion.inForce(at: YearMonth(year: 2025, month: 7)) == .v2025)
        #expect(RegistryVersion.inForce(at: YearMonth(year: 2024, month: 12)) == .v2004)
        #expect(RegistryVersion.inForce(at: YearMonth(year: 2026, month: 1)) == .v2025)
        #expect(RegistrySwitch.monthsBefore == 1...6)
        #expect(RegistrySwitch.isBeforeSwitch(year: 2025, month: 6))
        #expect(!RegistrySwitch.isBeforeSwitch(year: 2025, month: 7))
        #expect(!RegistrySwitch.isBeforeSwitch(year: 2024, month: 6))
        #expect(RegistrySwitch.carries(year: 2025, .v2025))
        #expect(!RegistrySwitch.carries(year: 2025, .v2004))
        #expect(!RegistrySwitch.carries(year: 2026, .v2025))
    }

    @Test func fiscalYearsRunFrom2000To2100() {
        #expect(FiscalYear.range == 2000...2100)
    }
}
