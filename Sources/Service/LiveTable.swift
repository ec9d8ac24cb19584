import Domain
import Foundation
import ReadSide

/// The demo's screen: each region's and the nation's latest summary, the active alerts, the
/// worker's counters and how to send more updates. Pure: text in, text out.
public struct LiveTable {
    /// The summary members the table shows (a contract summary has many more).
    public struct Summary: Decodable, Sendable {
        public struct Block: Decodable, Sendable {
            public var plan_vnd: Int64?
            public var executed_vnd: Int64?
            public var execution_rate_pct: Double?
        }
        public struct BySource: Decodable, Sendable {
            public var KCQG: Block?
            public var KCDP: Block?
        }
        public var region: String
        public var fiscal_year: Int
        public var period_end: String
        public var status: String?
        public var provinces_expected: Int?
        public var provinces_reported: Int?
        public var provinces_carried: Int?
        public var totals: Block
        public var by_source: BySource?
        public var revision: Int?
    }

    /// The contract alert as the read side decodes it.
    public typealias Alert = AlertMessage

    public var summaries: [Summary] = []
    public var alerts: [Alert] = []
    /// Prometheus text of the worker's metrics (for the counters line).
    public var metricsText = ""
    public var bootstrap: String
    public var inputTopic: String
    public var sampleNote: String?
    /// The dashboard's address once the HTTP server listens.
    public var dashboardURL: String?

    public init(bootstrap: String, inputTopic: String) {
        self.bootstrap = bootstrap
        self.inputTopic = inputTopic
    }

    static let rows: [(id: String, name: String)] = [
        ("bac", "Phía Bắc"), ("mien-trung-tay-nguyen", "Miền Trung – Tây Nguyên"), ("nam", "Phía Nam"),
        ("ca-nuoc", "Cả nước"),
    ]

    /// The latest summary (by period) of each region and the nation.
    func latest(_ region: String) -> Summary? {
        summaries.filter { $0.region == region }.max {
            ($0.period_end, $0.revision ?? 0) < ($1.period_end, $1.revision ?? 0)
        }
    }

    /// `colour`: ANSI colours for severities (terminals only).
    public func render(width: Int = 118, colour: Bool = false) -> String {
        var out: [String] = []
        out.append("khuyencong — regional execution (amounts in million đồng; each row its latest period)")
        if let dashboardURL { out.append("Dashboard (live, in a browser): \(dashboardURL)") }
        out.append(columns(["region", "period", "executed", "plan", "rate", "KCQG", "KCĐP", "reported", "status"]))
        out.append(String(repeating: "─", count: min(width, 112)))
        for row in Self.rows {
            guard let s = latest(row.id) else {
                out.append(columns([row.name, "—", "", "", "", "", "", "", "waiting"]))
                continue
            }
            let reported =
                "\(s.provinces_reported ?? 0)/\(s.provinces_expected ?? 0)"
                + ((s.provinces_carried ?? 0) > 0 ? " (+\(s.provinces_carried ?? 0) carried)" : "")
            out.append(
                columns([
                    row.name, s.period_end, Self.millions(s.totals.executed_vnd), Self.millions(s.totals.plan_vnd),
                    Self.percent(s.totals.execution_rate_pct), Self.percent(s.by_source?.KCQG?.execution_rate_pct),
                    Self.percent(s.by_source?.KCDP?.execution_rate_pct), reported, s.status ?? "",
                ]))
        }
        out.append("")
        let active = alerts.filter { $0.state != "resolved" }.sorted { Self.alertOrder($0) < Self.alertOrder($1) }
        out.append("Active alerts: \(active.count)")
        let shown = 10
        for alert in active.prefix(shown) {
            let critical = alert.severity == "critical"
            let tag =
                !colour
                ? (critical ? "CRITICAL" : "warning ")
                : critical ? "\u{1B}[31mCRITICAL\u{1B}[0m" : "\u{1B}[33mwarning \u{1B}[0m"
            out.append("  \(tag) \(alert.message ?? "\(alert.alert_id) \(alert.period_end)")")
        }
        if active.count > shown { out.append("  … and \(active.count - shown) more (GET /v1/alerts)") }
        out.append("")
        out.append(counters())
        out.append("")
        out.append("Send more updates (JSON lines, keyed by province) to the embedded broker \(bootstrap):")
        out.append("  khuyencong produce FILE.jsonl --brokers \(bootstrap)")
        out.append(
            "  kcat -P -b \(bootstrap) -t \(inputTopic) -K: <<< "
                + "'49:{\"schema\":\"khuyencong.execution-update.v1\",…}'")
        if let sampleNote { out.append(sampleNote) }
        out.append("Ctrl-C to stop.")
        return out.joined(separator: "\n")
    }

    /// Redraw in place: cursor home, each line erased to its end, then the rest of the screen.
    public func frame(width: Int = 118) -> String {
        "\u{1B}[H"
            + render(width: width, colour: true).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0 + "\u{1B}[K" }.joined(separator: "\n") + "\n\u{1B}[J"
    }

    func counters() -> String {
        let values = PrometheusText.samples(metricsText)
        func total(_ name: String) -> Int64 {
            values.filter { $0.name == name }.reduce(0) { $0 + Int64($1.value) }
        }
        let rejected = values.filter { $0.name == "khuyencong_updates_rejected_total" && $0.value > 0 }
            .map { "\($0.labels["reason"] ?? "?") \(Int64($0.value))" }.sorted()
        return "Updates: consumed \(total("khuyencong_updates_consumed_total")), accepted "
            + "\(total("khuyencong_updates_accepted_total")), "
            + "duplicate \(total("khuyencong_updates_duplicate_total")), stale "
            + "\(total("khuyencong_updates_stale_total")), "
            + "rejected \(total("khuyencong_updates_rejected_total"))"
            + (rejected.isEmpty ? "" : " (\(rejected.joined(separator: ", ")))")
    }

    static func alertOrder(_ a: Alert) -> String {
        let level = ["national": "0", "region": "1"][a.scope.level] ?? "2"
        return level + (a.severity == "critical" ? "0" : "1") + a.alert_id
    }

    func columns(_ cells: [String]) -> String {
        let widths = [24, 8, 10, 10, 8, 8, 8, 20, 8]
        return zip(cells, widths).enumerated().map { index, pair in
            let (cell, width) = pair
            let pad = String(repeating: " ", count: max(0, width - cell.count))
            return index == 0 || index == 1 || index >= 7 ? cell + pad : pad + cell
        }.joined(separator: " ")
    }

    /// 20700000000 → "20,700" (million đồng, rounded down to the million).
    static func millions(_ vnd: Int64?) -> String {
        guard let vnd else { return "—" }
        let millions = vnd / 1_000_000
        return (millions < 0 ? "-" : "") + Percent.groupingThousands(String(millions.magnitude), separator: ",")
    }

    static func percent(_ value: Double?) -> String {
        value.map { String(format: "%.2f%%", $0) } ?? "—"
    }
}

/// Reads samples out of Prometheus text exposition (enough for the demo's counters).
public enum PrometheusText {
    public struct Sample: Sendable, Equatable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public static func samples(_ text: String) -> [Sample] {
        text.split(separator: "\n").compactMap { line -> Sample? in
            if line.hasPrefix("#") { return nil }
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                return nil
            }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else {
                return Sample(name: String(series), labels: [:], value: value)
            }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: brace)...].dropLast().split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 {
                    labels[String(parts[0])] = String(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
                }
            }
            return Sample(name: String(series[..<brace]), labels: labels, value: value)
        }
    }
}
