/// What a regional summary covers: one region or the nation (`ca-nuoc`).
public enum SummaryScope: Sendable, Hashable, Comparable, CustomStringConvertible {
    case region(RegionID)
    case nation

    /// `bac`, `mien-trung-tay-nguyen`, `nam`, then `ca-nuoc`.
    public static let all: [SummaryScope] = RegionID.allCases.map { .region($0) } + [.nation]

    public init?(id: String) {
        if id == "ca-nuoc" {
            self = .nation
        } else if let r = RegionID(rawValue: id) {
            self = .region(r)
        } else {
            return nil
        }
    }

    public var id: String {
        switch self {
        case .region(let r): r.rawValue
        case .nation: "ca-nuoc"
        }
    }

    public var name: String {
        switch self {
        case .region(let r): r.name
        case .nation: "Cả nước"
        }
    }

    public var description: String { id }

    var index: Int {
        switch self {
        case .region(.bac): 0
        case .region(.mienTrungTayNguyen): 1
        case .region(.nam): 2
        case .nation: 3
        }
    }

    public static func < (a: SummaryScope, b: SummaryScope) -> Bool { a.index < b.index }
}

/// A unit as the aggregator sees it: numeric code for array indexing, 2025 predecessors.
/// A class: summaries walk the units of a scope for every month they build, and passing a
/// reference is one retain where copying the fields would be several.
final class UnitInfo: Sendable {
    let code: Int
    let unit: AdministrativeUnit
    /// For 2025 units: the 2004 codes merged into it.
    let predecessors: [Int]
    /// `"code":"..","name":".."` pre-encoded for summary rows.
    let rowHead: [UInt8]

    init(code: Int, unit: AdministrativeUnit, predecessors: [Int]) {
        self.code = code
        self.unit = unit
        self.predecessors = predecessors
        var w = AggregateJSON(capacity: 64)
        w.key("code"); w.string(unit.code)
        w.key("name"); w.string(unit.name)
        rowHead = w.bytes
    }
}

/// Registry lookups precomputed once: units per scope and registry, restatement of 2004 units
/// into 2025 regions, and each code's region per registry.
struct UnitIndex: Sendable {
    let registries: Registries
    /// [registry 2004, 2025][scope index] → units in code order.
    private let byScope: [[[UnitInfo]]]
    /// [scope index] → 2004 units whose 2025 successor lies in the scope (prior-year restatement).
    private let restated: [[UnitInfo]]
    /// [registry][code] → region.
    private let regionOf: [[RegionID?]]
    /// [2004 code] → 2025 successor code.
    private let successorOf: [Int?]

    init(registries: Registries) {
        self.registries = registries
        func info(_ u: AdministrativeUnit) -> UnitInfo? {
            guard let c = Int(u.code) else { return nil }
            return UnitInfo(code: c, unit: u, predecessors: u.predecessors.compactMap { Int($0) })
        }
        func grouped(_ units: [UnitInfo], region: (UnitInfo) -> RegionID?) -> [[UnitInfo]] {
            SummaryScope.all.map { scope in
                switch scope {
                case .nation: units
                case .region(let r): units.filter { region($0) == r }
                }
            }
        }
        let u2004 = registries.r2004.units.compactMap(info)
        let u2025 = registries.r2025.units.compactMap(info)
        byScope = [grouped(u2004) { $0.unit.region }, grouped(u2025) { $0.unit.region }]
        var succ = [Int?](repeating: nil, count: YearRevisions.codes)
        for u in u2025 { for p in u.predecessors where p < YearRevisions.codes { succ[p] = u.code } }
        successorOf = succ
        var regions = [[RegionID?]](repeating: [RegionID?](repeating: nil, count: YearRevisions.codes), count: 2)
        for u in u2004 where u.code < YearRevisions.codes { regions[0][u.code] = u.unit.region }
        for u in u2025 where u.code < YearRevisions.codes { regions[1][u.code] = u.unit.region }
        regionOf = regions
        let r2025 = regions[1]
        restated = grouped(u2004) { u in succ[u.code].flatMap { r2025[$0] } }
    }

    private static func slot(_ v: RegistryVersion) -> Int { v == .v2004 ? 0 : 1 }

    func units(_ scope: SummaryScope, _ version: RegistryVersion) -> [UnitInfo] {
        byScope[Self.slot(version)][scope.index]
    }
    func restatedUnits(_ scope: SummaryScope) -> [UnitInfo] { restated[scope.index] }
    func region(code: Int, _ version: RegistryVersion) -> RegionID? { regionOf[Self.slot(version)][code] }
    func successor(of code2004: Int) -> Int? { successorOf[code2004] }
}
