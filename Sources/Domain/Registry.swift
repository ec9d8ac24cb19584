import Foundation

/// The three khuyến công regions, in the contract's order.
public enum RegionID: String, Sendable, Hashable, CaseIterable, Comparable {
    case bac = "bac"
    case mienTrungTayNguyen = "mien-trung-tay-nguyen"
    case nam = "nam"

    public var name: String {
        switch self {
        case .bac: "Khu vực phía Bắc"
        case .mienTrungTayNguyen: "Khu vực miền Trung – Tây Nguyên"
        case .nam: "Khu vực phía Nam"
        }
    }

    public static func < (a: RegionID, b: RegionID) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Which administrative registry a period falls under.
public enum RegistryVersion: String, Sendable, Hashable, CaseIterable {
    case v2004 = "2004"
    case v2025 = "2025"

    /// Registry 2004 applies before `RegistrySwitch.firstPeriod`, registry 2025 from it.
    public static func inForce(at period: YearMonth) -> RegistryVersion {
        period < RegistrySwitch.firstPeriod ? .v2004 : .v2025
    }
}

/// The contract's one registry change, in one place: registry 2004 up to 2025-06, registry 2025
/// from 2025-07. In the fiscal year of the switch a 2025 unit's months from July carry its
/// predecessors' reports of January–June; every rule that depends on the switch asks here.
public enum RegistrySwitch {
    /// The fiscal year the switch splits.
    public static let year = 2025
    /// The first month of `year` under registry 2025.
    public static let month = 7
    /// The first period under registry 2025.
    public static var firstPeriod: YearMonth { YearMonth(year: year, month: month) }
    /// The last period under registry 2004.
    public static var lastPeriodBefore: YearMonth { YearMonth(year: year, month: month - 1) }
    /// The months of `year` still under registry 2004 (January–June).
    public static var monthsBefore: ClosedRange<Int> { 1...(month - 1) }

    /// Whether (year, month) lies in the switch year before the switch: a report there also
    /// feeds its successor's figures from `month` on.
    public static func isBeforeSwitch(year: Int, month m: Int) -> Bool { year == Self.year && m < month }

    /// Whether the units of `version` in fiscal year `year` carry their predecessors' reports of
    /// `monthsBefore` (registry 2025 in the switch year).
    public static func carries(year: Int, _ version: RegistryVersion) -> Bool { year == Self.year && version == .v2025 }
}

/// One province-level unit of a registry.
public struct AdministrativeUnit: Sendable, Hashable {
    /// Official 2-digit code ("01" … "96").
    public let code: String
    /// Unicode NFC name.
    public let name: String
    public let region: RegionID
    /// For 2025 units: the 2004 codes merged into it (itself included when it kept its code).
    /// Empty for 2004 units.
    public let predecessors: [String]

    public init(code: String, name: String, region: RegionID, predecessors: [String] = []) {
        self.code = code
        self.name = name
        self.region = region
        self.predecessors = predecessors
    }
}

/// One version of the registry: the units in code order.
public struct Registry: Sendable {
    public let version: RegistryVersion
    /// All units, in code order.
    public let units: [AdministrativeUnit]
    private let index: [String: Int]
    /// The data file and each unit's line in it, for cross-check errors.
    let file: String
    let lines: [String: Int]

    public init(version: RegistryVersion, units: [AdministrativeUnit]) {
        self.init(version: version, units: units, file: "registry \(version.rawValue)", lines: [:])
    }

    init(version: RegistryVersion, units: [AdministrativeUnit], file: String, lines: [String: Int]) {
        self.version = version
        self.units = units.sorted { $0.code < $1.code }
        // Duplicate codes are refused by the loader; keep the first one for hand-built registries.
        self.index = Dictionary(self.units.enumerated().map { ($1.code, $0) }, uniquingKeysWith: { a, _ in a })
        self.file = file
        self.lines = lines
    }

    public func unit(_ code: String) -> AdministrativeUnit? {
        index[code].map { units[$0] }
    }

    /// Units of one region, in code order.
    public func units(in region: RegionID) -> [AdministrativeUnit] {
        units.filter { $0.region == region }
    }
}

/// A registry data file that cannot be used; says which file, which line and what is wrong.
public struct RegistryFileError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let problem: String
    public var description: String { "\(file):\(line): \(problem)" }
}

/// Both registries, loaded from data files at start-up.
public struct Registries: Sendable {
    public let r2004: Registry
    public let r2025: Registry

    /// 2004 code → the 2025 unit that absorbed it.
    private let successors: [String: AdministrativeUnit]

    /// Cross-checks the pair: every 2025 predecessor is a 2004 unit, and every 2004 unit is
    /// absorbed by exactly one 2025 unit. Errors name the file and line of the offending unit.
    public init(r2004: Registry, r2025: Registry) throws(RegistryFileError) {
        guard r2004.version == .v2004, r2025.version == .v2025 else {
            throw RegistryFileError(
                file: r2025.file, line: 0, problem: "registries given in the wrong order (need 2004, then 2025)")
        }
        var successors: [String: AdministrativeUnit] = [:]
        for unit in r2025.units {
            let line = r2025.lines[unit.code] ?? 0
            var seen = Set<String>()
            for p in unit.predecessors {
                guard seen.insert(p).inserted else {
                    throw RegistryFileError(
                        file: r2025.file, line: line, problem: "unit \(unit.code) lists predecessor \(p) twice")
                }
                guard r2004.unit(p) != nil else {
                    throw RegistryFileError(
                        file: r2025.file, line: line,
                        problem:
                            "unit \(unit.code): predecessor \(p) is not a unit of the 2004 registry (\(r2004.file))")
                }
                if let earlier = successors[p] {
                    throw RegistryFileError(
                        file: r2025.file, line: line,
                        problem: "unit \(unit.code): predecessor \(p) is already absorbed by unit \(earlier.code)")
                }
                successors[p] = unit
            }
        }
        for unit in r2004.units where successors[unit.code] == nil {
            throw RegistryFileError(
                file: r2004.file, line: r2004.lines[unit.code] ?? 0,
                problem: "unit \(unit.code) (\(unit.name)) is not absorbed by any 2025 unit (\(r2025.file))")
        }
        self.r2004 = r2004
        self.r2025 = r2025
        self.successors = successors
    }

    public func inForce(at period: YearMonth) -> Registry {
        RegistryVersion.inForce(at: period) == .v2004 ? r2004 : r2025
    }

    public subscript(version: RegistryVersion) -> Registry {
        version == .v2004 ? r2004 : r2025
    }

    /// The 2025 unit that absorbed a 2004 unit (restatement), or nil for an unknown code.
    public func successor2025(of code2004: String) -> AdministrativeUnit? {
        successors[code2004]
    }

    /// Restatement of a 2004 unit's figure under registry 2025: the code and region it counts
    /// towards (nil for an unknown code).
    public func restated2025(_ code2004: String) -> (code: String, region: RegionID)? {
        successors[code2004].map { ($0.code, $0.region) }
    }

    /// The bundled registry files (copies of shared/data), or replacements given by path.
    public static func load(file2004: String? = nil, file2025: String? = nil) throws(RegistryFileError) -> Registries {
        let r2004 = try RegistryLoader.load(version: .v2004, path: file2004 ?? bundledPath("provinces-2004"))
        let r2025 = try RegistryLoader.load(version: .v2025, path: file2025 ?? bundledPath("provinces-2025"))
        return try Registries(r2004: r2004, r2025: r2025)
    }

    static func bundledPath(_ name: String) -> String {
        Bundle.module.path(forResource: name, ofType: "csv") ?? "\(name).csv"
    }
}

/// Reads the registry CSVs: `code,name,region` (2004) and `code,name,predecessors,region` (2025).
enum RegistryLoader {
    static func load(version: RegistryVersion, path: String) throws(RegistryFileError) -> Registry {
        func fail(_ line: Int, _ problem: String) -> RegistryFileError {
            RegistryFileError(file: path, line: line, problem: problem)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw fail(0, "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw fail(0, "not UTF-8") }
        let expectedHeader =
            version == .v2004 ? ["code", "name", "region"] : ["code", "name", "predecessors", "region"]
        var units: [AdministrativeUnit] = []
        var lines: [String: Int] = [:]
        var seen = Set<String>()
        var headerSeen = false
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNo = i + 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw[...]
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let cols = line.split(separator: ",", omittingEmptySubsequences: false).map {
                String($0).trimmingCharacters(in: .whitespaces).precomposedStringWithCanonicalMapping
            }
            if !headerSeen {
                guard cols == expectedHeader else {
                    throw fail(lineNo, "header must be \(expectedHeader.joined(separator: ",")), found \(line)")
                }
                headerSeen = true
                continue
            }
            guard cols.count == expectedHeader.count else {
                throw fail(lineNo, "expected \(expectedHeader.count) columns, found \(cols.count)")
            }
            let code = cols[0], name = cols[1], regionText = cols[cols.count - 1]
            guard code.utf8.count == 2, code.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                throw fail(lineNo, "code '\(code)' is not 2 digits")
            }
            guard !name.isEmpty else { throw fail(lineNo, "empty name") }
            guard let region = RegionID(rawValue: regionText) else {
                throw fail(lineNo, "unknown region '\(regionText)' (expected bac, mien-trung-tay-nguyen or nam)")
            }
            guard seen.insert(code).inserted else { throw fail(lineNo, "duplicate code \(code)") }
            var predecessors: [String] = []
            if version == .v2025 {
                predecessors = cols[2].split(separator: "+").map(String.init)
                guard !predecessors.isEmpty,
                    predecessors.allSatisfy({ $0.utf8.count == 2 && $0.utf8.allSatisfy { (0x30...0x39).contains($0) } })
                else { throw fail(lineNo, "predecessors '\(cols[2])' must be 2-digit codes joined by '+'") }
            }
            units.append(AdministrativeUnit(code: code, name: name, region: region, predecessors: predecessors))
            lines[code] = lineNo
        }
        guard headerSeen, !units.isEmpty else { throw fail(1, "no units") }
        return Registry(version: version, units: units, file: path, lines: lines)
    }
}
