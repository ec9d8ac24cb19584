import Domain
import Foundation
import Mustache
import ReadSide

/// The dashboard's HTML pages, rendered from the read model with the bundled Mustache templates.
public struct DashboardPages: Sendable {
    let library: MustacheLibrary

    /// Loads the bundled templates; a missing or broken template is a build defect, named here.
    public init() throws {
        guard let directory = Bundle.module.url(forResource: "templates", withExtension: nil) else {
            throw DashboardError("the dashboard templates are missing from the bundle")
        }
        var library = MustacheLibrary()
        for name in ["header", "footer", "period-form", "alerts", "report", "region", "error"] {
            let url = directory.appendingPathComponent(name + ".mustache")
            try library.register(String(contentsOf: url, encoding: .utf8), named: name)
        }
        self.library = library
    }

    /// A static asset (`app.css`, `app.js`) and its content type; nil for any other name.
    public static func asset(_ name: String) -> (bytes: [UInt8], contentType: String)? {
        let types = ["app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"]
        guard let type = types[name],
            let url = Bundle.module.url(forResource: "static", withExtension: nil)?.appendingPathComponent(name),
            let data = try? Data(contentsOf: url)
        else { return nil }
        return (Array(data), type)
    }

    // MARK: pages

    /// The report table for `period` (nil: the latest period with a summary).
    public func report(model: ReadModel, period requested: YearMonth?) -> String {
        let period = requested ?? model.periods().last ?? Self.fallbackPeriod
        let table = ReportTable(model: model, period: period)
        var view = PageView(
            title: "Báo cáo chung", model: model, period: period, formAction: "/",
            csvURL: "/export/bao-cao.csv?year=\(period.year)&month=\(period.month)")
        view.rows = table.rows.map(RowView.init)
        view.hasData = !table.isEmpty
        view.chart = PaceChart(model: model, scope: .nation, fiscalYear: period.year).svg()
        // The nation's and regions' alerts of the year; provinces' alerts are counted here and
        // listed on their region's page.
        let ofYear = model.alerts(activeOnly: true).filter { $0.message.fiscal_year == period.year }
        view.alerts = AlertView.all(ofYear.filter { $0.message.scope.level != "province" })
        view.hasAlerts = !view.alerts.isEmpty
        view.provinceAlerts = ProvinceAlertCount.byRegion(ofYear, model: model, period: period)
        view.hasProvinceAlerts = !view.provinceAlerts.isEmpty
        return library.render(view, withTemplate: "report") ?? ""
    }

    /// A region's (or the nation's) provinces for `period` (nil: the scope's latest period).
    public func region(model: ReadModel, scope: SummaryScope, period requested: YearMonth?) -> String {
        let period =
            requested ?? model.summaries(region: scope.id).last?.period ?? model.periods().last
            ?? Self.fallbackPeriod
        let report = RegionReport(model: model, scope: scope, period: period)
        var view = PageView(
            title: scope.name, model: model, period: period, formAction: "/khu-vuc/\(scope.id)",
            csvURL: "/export/khu-vuc/\(scope.id).csv?year=\(period.year)&month=\(period.month)")
        view.name = report.summary?.region_name ?? scope.name
        if let s = report.summary {
            view.hasData = true
            view.fill(summary: s)
        }
        view.provinces = report.provinces.map { ProvinceView($0, severity: report.provinceSeverity[$0.code]) }
        view.chart = PaceChart(model: model, scope: scope, fiscalYear: period.year).svg()
        let codes = Set(report.provinces.map(\.code))
        view.alerts = AlertView.all(
            model.alerts(activeOnly: true).filter { a in
                let s = a.message.scope
                guard a.message.fiscal_year == period.year else { return false }
                return scope == .nation || (s.level == "region" && s.code == scope.id)
                    || (s.level == "province" && codes.contains(s.code))
            })
        view.hasAlerts = !view.alerts.isEmpty
        return library.render(view, withTemplate: "region") ?? ""
    }

    /// A page for a request the dashboard cannot answer (400, 404), in Vietnamese.
    public func error(_ message: String, model: ReadModel) -> String {
        var view = PageView(
            title: "Yêu cầu không hợp lệ", model: model, period: Self.fallbackPeriod, formAction: "/",
            csvURL: "/")
        view.message = message
        return library.render(view, withTemplate: "error") ?? message
    }

    /// Before any summary: the current year's January is as good an empty period as any.
    static let fallbackPeriod = YearMonth(year: 2025, month: 1)
}

struct DashboardError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: view models (plain strings for the templates)

struct Option {
    var value: String
    var label: String
    var selected: Bool
}

struct PageView {
    var title: String
    var version: String
    var year: Int
    var month: Int
    var periodLabel: String
    var periodEndDate: String
    var formAction: String
    var csvURL: String
    var years: [Option]
    var months: [Option]
    var hasData = false
    var rows: [RowView] = []
    var provinces: [ProvinceView] = []
    var chart = ""
    var alerts: [AlertView] = []
    var hasAlerts = false
    var provinceAlerts: [ProvinceAlertCount] = []
    var hasProvinceAlerts = false
    var message = ""
    /// Shown above the content while the read side has not caught up (or cannot read).
    var notReady = false
    var notReadyText = ""
    // Region page totals.
    var name = ""
    var plan = "", executed = "", rate = "", rateKCQG = "", rateKCDP = ""
    var reported = "", carried = "", missing = "", status = ""

    init(title: String, model: ReadModel, period: YearMonth, formAction: String, csvURL: String) {
        self.title = title
        version = String(model.version)
        year = period.year
        month = period.month
        periodLabel = VietnameseFormat.cumulativeLabel(period)
        periodEndDate = VietnameseFormat.periodEndDate(period)
        self.formAction = formAction
        self.csvURL = csvURL
        switch model.readiness {
        case .ready: break
        case .failed(let reason):
            notReady = true
            notReadyText =
                "Không đọc được số liệu từ Kafka (\(reason)). Trang sẽ tự cập nhật "
                + "khi đọc lại được."
        case .starting, .catchingUp:
            notReady = true
            notReadyText =
                "Đang nạp số liệu đã công bố từ Kafka; trang sẽ tự cập nhật khi "
                + "nạp xong."
        }
        let knownYears = Set(model.periods().map(\.year) + [period.year]).sorted(by: >)
        years = knownYears.map { Option(value: String($0), label: String($0), selected: $0 == period.year) }
        months = (1...12).map { Option(value: String($0), label: "Tháng \($0)", selected: $0 == period.month) }
    }

    mutating func fill(summary s: SummaryMessage) {
        plan = VietnameseFormat.billions(s.totals?.plan_vnd)
        executed = VietnameseFormat.billions(s.totals?.executed_vnd)
        rate = VietnameseFormat.percent(s.totals?.execution_rate_pct)
        rateKCQG = VietnameseFormat.percent(s.by_source?.KCQG?.execution_rate_pct)
        rateKCDP = VietnameseFormat.percent(s.by_source?.KCDP?.execution_rate_pct)
        reported = "\(s.provinces_reported ?? 0)/\(s.provinces_expected ?? 0)"
        carried = String(s.provinces_carried ?? 0)
        missing = String(s.provinces_missing?.count ?? 0)
        status = VietnameseFormat.status(s.status)
    }
}

struct RowView {
    var id: String
    var name: String
    var link: String
    var isNation: Bool
    var hasData: Bool
    var isCarried = false
    var carriedNote = ""
    var plan = "", planExact = "", executed = "", executedExact = ""
    var rate = "", rateKCQG = "", rateKCDP = "", shareKCQG = "", shareKCDP = ""
    var nationTotal = "", nationKCQG = "", nationKCDP = ""
    var lastExecuted = "", lastRate = "", executedChange = ""
    var reported = "", carried = "", missing = "", status = ""

    init(_ row: ReportTable.Row) {
        id = row.scope.id
        name = row.summary?.region_name ?? row.scope.name
        isNation = row.scope == .nation
        hasData = row.summary != nil
        guard let s = row.summary else {
            link = "/khu-vuc/\(row.scope.id)"
            return
        }
        link = "/khu-vuc/\(row.scope.id)?year=\(s.fiscal_year)&month=\(Int(s.period_end.suffix(2)) ?? 12)"
        if let from = row.carriedFrom {
            isCarried = true
            carriedNote = "số liệu đến tháng \(VietnameseFormat.month(from)), chưa có báo cáo mới"
        }
        plan = VietnameseFormat.billions(s.totals?.plan_vnd)
        planExact = VietnameseFormat.dong(s.totals?.plan_vnd)
        executed = VietnameseFormat.billions(s.totals?.executed_vnd)
        executedExact = VietnameseFormat.dong(s.totals?.executed_vnd)
        rate = VietnameseFormat.percent(s.totals?.execution_rate_pct)
        rateKCQG = VietnameseFormat.percent(s.by_source?.KCQG?.execution_rate_pct)
        rateKCDP = VietnameseFormat.percent(s.by_source?.KCDP?.execution_rate_pct)
        shareKCQG = VietnameseFormat.percent(s.by_source?.KCQG?.share_of_region_executed_pct)
        shareKCDP = VietnameseFormat.percent(s.by_source?.KCDP?.share_of_region_executed_pct)
        if let share = row.nationalShare {
            nationTotal = VietnameseFormat.percent(share.total)
            nationKCQG = VietnameseFormat.percent(share.kcqg)
            nationKCDP = VietnameseFormat.percent(share.kcdp)
        } else {
            (nationTotal, nationKCQG, nationKCDP) = ("—", "—", "—")
        }
        let last = s.same_period_last_year?.totals
        lastExecuted = VietnameseFormat.billions(last?.executed_vnd)
        lastRate = VietnameseFormat.percent(last?.execution_rate_pct)
        executedChange = VietnameseFormat.change(last?.executed_change_pct)
        reported = "\(s.provinces_reported ?? 0)/\(s.provinces_expected ?? 0)"
        carried = String(s.provinces_carried ?? 0)
        missing = String(s.provinces_missing?.count ?? 0)
        status = VietnameseFormat.status(s.status)
    }
}

struct ProvinceView {
    var code: String
    var name: String
    var mark: String
    var markText: String
    var status: String
    var kcqgPlan: String, kcqgExecuted: String, kcqgRate: String
    var kcdpPlan: String, kcdpExecuted: String, kcdpRate: String
    var hasAlert: Bool
    var severity: String
    var severityText: String

    init(_ p: SummaryMessage.Province, severity: String?) {
        code = p.code
        name = p.name
        let m = ProvinceMark.of(p)
        mark = m.rawValue
        let reportMonth = p.report_month.flatMap(YearMonth.init).map(VietnameseFormat.month) ?? "trước"
        markText = m == .carried ? "Chuyển kỳ (số liệu \(reportMonth))" : m.text
        status = VietnameseFormat.status(p.status)
        let q = p.by_source?.KCQG, d = p.by_source?.KCDP
        kcqgPlan = VietnameseFormat.billions(q?.plan_vnd, decimals: 2)
        kcqgExecuted = VietnameseFormat.billions(q?.executed_vnd, decimals: 2)
        kcqgRate = VietnameseFormat.percent(q?.execution_rate_pct)
        kcdpPlan = VietnameseFormat.billions(d?.plan_vnd, decimals: 2)
        kcdpExecuted = VietnameseFormat.billions(d?.executed_vnd, decimals: 2)
        kcdpRate = VietnameseFormat.percent(d?.execution_rate_pct)
        hasAlert = severity != nil
        self.severity = severity ?? ""
        severityText = severity.map(VietnameseFormat.severity) ?? ""
    }
}

struct AlertView {
    var severity: String
    var severityText: String
    var scopeName: String
    var source: String
    var message: String
    var since: String

    /// Critical first, then the nation, regions and provinces, then by key.
    static func all(_ alerts: [ReadModel.Alert]) -> [AlertView] {
        let level = ["national": 0, "region": 1, "province": 2]
        return alerts.sorted { a, b in
            let x = a.message, y = b.message
            return (x.severity == "critical" ? 0 : 1, level[x.scope.level] ?? 3, a.key)
                < (y.severity == "critical" ? 0 : 1, level[y.scope.level] ?? 3, b.key)
        }.map { a in
            let m = a.message
            return AlertView(
                severity: m.severity == "critical" ? "critical" : "warning",
                severityText: VietnameseFormat.severity(m.severity),
                scopeName: m.scope.name ?? m.scope.code,
                source: ["KCDP": "KCĐP", "total": "Tổng"][m.source] ?? m.source,
                message: m.message ?? "", since: VietnameseFormat.dateTime(m.raised_at))
        }
    }
}

extension DashboardPages {
    /// The HTTP API's OpenAPI document (bundled `openapi.yaml`).
    public static let openAPIYAML: String? = Bundle.module.url(forResource: "openapi", withExtension: "yaml")
        .flatMap { try? String(contentsOf: $0, encoding: .utf8) }
}

/// How many provinces of a region have active alerts in a year, with a link to the region page.
struct ProvinceAlertCount {
    var name: String
    var link: String
    var critical: Int
    var warning: Int
    /// Stored, not computed: the templates see stored properties only.
    var hasCritical: Bool
    var hasWarning: Bool

    static func byRegion(_ alerts: [ReadModel.Alert], model: ReadModel, period: YearMonth) -> [ProvinceAlertCount] {
        let provinces = alerts.filter { $0.message.scope.level == "province" }
        guard !provinces.isEmpty else { return [] }
        return RegionID.allCases.compactMap { region in
            let summary =
                model.summary(.region(region), fiscalYear: period.year, period: period)
                ?? model.summaries(region: region.rawValue, year: period.year).last
            let codes = Set(summary?.message.provinces?.map(\.code) ?? [])
            var severity: [String: String] = [:]
            for a in provinces where codes.contains(a.message.scope.code) {
                if severity[a.message.scope.code] != "critical" { severity[a.message.scope.code] = a.message.severity }
            }
            guard !severity.isEmpty else { return nil }
            let critical = severity.values.filter { $0 == "critical" }.count, warning = severity.count - critical
            let link = "/khu-vuc/\(region.rawValue)?year=\(period.year)&month=\(period.month)"
            return ProvinceAlertCount(
                name: region.name, link: link, critical: critical, warning: warning,
                hasCritical: critical > 0, hasWarning: warning > 0)
        }
    }
}
