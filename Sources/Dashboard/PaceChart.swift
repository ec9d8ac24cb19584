import Domain
import ReadSide

/// Inline SVG: a scope's execution rate (total, KCQG, KCĐP) by month of a fiscal year against
/// the pace line (month/12 of the plan). Drawn on the server: no chart library, no script.
public struct PaceChart: Sendable {
    public struct Point: Sendable {
        public var month: Int
        public var total: Hundredths?
        public var kcqg: Hundredths?
        public var kcdp: Hundredths?
    }

    public var title: String
    public var points: [Point]

    public init(model: ReadModel, scope: SummaryScope, fiscalYear: Int) {
        title = "Tỷ lệ thực hiện so với tiến độ — \(scope.name), năm \(fiscalYear)"
        points = model.summaries(region: scope.id, year: fiscalYear).map { s in
            Point(
                month: s.period.month, total: s.message.totals?.execution_rate_pct,
                kcqg: s.message.by_source?.KCQG?.execution_rate_pct,
                kcdp: s.message.by_source?.KCDP?.execution_rate_pct)
        }
    }

    static let width = 640, height = 300, left = 48, right = 16, top = 16, bottom = 40

    /// The SVG element (escaped text only).
    public func svg() -> String {
        let rates = points.flatMap { [$0.total, $0.kcqg, $0.kcdp] }.compactMap { $0?.value }
        let top = max(100, Int(((rates.max() ?? 0) + 1999) / 2000) * 20)  // the y axis in steps of 20 %
        let plotW = Self.width - Self.left - Self.right, plotH = Self.height - Self.top - Self.bottom
        func x(_ month: Int) -> Int { Self.left + (month - 1) * plotW / 11 }
        func y(_ hundredths: Int128) -> Int {
            Self.top + plotH - Int(min(Int128(top * 100), max(0, hundredths)) * Int128(plotH) / Int128(top * 100))
        }
        var s =
            #"<svg class="chart" viewBox="0 0 \#(Self.width) \#(Self.height)" role="img" "#
            + #"aria-labelledby="chart-title" "#
            + #"xmlns="http://www.w3.org/2000/svg"><title id="chart-title">\#(HTML.escape(title))</title>"#
        for step in stride(from: 0, through: top, by: 20) {
            let yy = y(Int128(step * 100))
            s += #"<line class="grid" x1="\#(Self.left)" y1="\#(yy)" x2="\#(Self.width - Self.right)" y2="\#(yy)"/>"#
            s += #"<text class="axis" x="\#(Self.left - 6)" y="\#(yy + 4)" text-anchor="end">\#(step) %</text>"#
        }
        for month in 1...12 {
            let baseline = Self.height - Self.bottom + 16
            s += #"<text class="axis" x="\#(x(month))" y="\#(baseline)" text-anchor="middle">T\#(month)</text>"#
        }
        // Pace: month/12 of the plan by the end of each month.
        let pace = (1...12).map { "\(x($0)),\(y(Int128($0) * 10000 / 12))" }.joined(separator: " ")
        s += #"<polyline class="pace" points="\#(pace)"/>"#
        for (name, pick) in [("total", \Point.total), ("kcqg", \Point.kcqg), ("kcdp", \Point.kcdp)] {
            let pts = points.compactMap { p in p[keyPath: pick].map { (p.month, $0.value) } }
            guard !pts.isEmpty else { continue }
            let line = pts.map { "\(x($0.0)),\(y($0.1))" }.joined(separator: " ")
            s += #"<polyline class="rate \#(name)" points="\#(line)"/>"#
            for (month, value) in pts {
                s +=
                    #"<circle class="rate \#(name)" cx="\#(x(month))" cy="\#(y(value))" r="3"><title>T\#(month): "#
                    + #"\#(Percent.vietnamese(value)) %</title></circle>"#
            }
        }
        s += #"<g class="legend" transform="translate(\#(Self.left + 8),\#(Self.height - 10))">"#
        let legend = [("pace", "Tiến độ (tháng/12)"), ("total", "Tổng"), ("kcqg", "KCQG"), ("kcdp", "KCĐP")]
        for (i, (cls, label)) in legend.enumerated() {
            let lineClass = cls == "pace" ? "pace" : "rate " + cls
            s += #"<line class="\#(lineClass)" x1="\#(i * 140)" y1="-4" x2="\#(i * 140 + 20)" y2="-4"/>"#
            s += #"<text x="\#(i * 140 + 26)" y="0">\#(label)</text>"#
        }
        return s + "</g></svg>"
    }
}

/// HTML escaping for text placed into markup by hand (the templates escape their own values).
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
