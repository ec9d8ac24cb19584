@testable import Domain

/// A wire message built member by member, so tests can replace, drop or add one member.
struct WireMessage {
    var members: [(name: String, raw: String)] = [
        ("schema", #""khuyencong.execution-update.v1""#),
        ("report_id", #""QNA-2022-07-KCQG.r3""#),
        ("province", #""49""#),
        ("fiscal_year", "2022"),
        ("period_end", #""2022-07""#),
        ("source", #""KCQG""#),
        ("status", #""actual""#),
        ("plan_vnd", "10000000000"),
        ("executed_vnd", "1211000000"),
        ("revision", "3"),
        ("reported_at", #""2022-08-05T09:30:00+07:00""#),
        ("advanced_vnd", "500000000"),
        (
            "activities",
            #"[{"category":"training","executed_vnd":1000000000,"projects":2,"beneficiaries":120},"#
                + #"{"category":"trade_promotion","executed_vnd":211000000}]"#
        ),
        ("consulting", #"{"projects":1,"revenue_vnd":0}"#),
    ]

    /// Replaces a member's raw JSON value (appends it when absent).
    func with(_ name: String, _ raw: String) -> WireMessage {
        var m = self
        if let i = m.members.firstIndex(where: { $0.name == name }) {
            m.members[i].raw = raw
        } else {
            m.members.append((name, raw))
        }
        return m
    }

    func without(_ names: String...) -> WireMessage {
        var m = self
        m.members.removeAll { names.contains($0.name) }
        return m
    }

    var json: String { "{" + members.map { "\"\($0.name)\":\($0.raw)" }.joined(separator: ",") + "}" }
    var bytes: [UInt8] { Array(json.utf8) }
}

enum Fixtures {
    static let registries: Registries = {
        do { return try Registries.load() } catch { preconditionFailure("bundled registries: \(error)") }
    }()
    static let decoder = ExecutionUpdateDecoder(registries: registries)

    static func decode(_ json: String, key: String? = "49") -> Result<ExecutionUpdate, Rejection> {
        decoder.decode(payload: Array(json.utf8), key: key.map { Array($0.utf8) })
    }

    static func rejection(_ json: String, key: String? = "49") -> Rejection? {
        if case .failure(let r) = decode(json, key: key) { return r }
        return nil
    }
}
