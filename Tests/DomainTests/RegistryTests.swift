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

    @Test func fiscalYearsRunFrom2000To2100() {
        #expect(FiscalYear.range == 2000...2100)
    }
}
