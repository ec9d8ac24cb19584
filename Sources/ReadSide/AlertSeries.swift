import Prometheus
import Synchronization

/// The active under-execution alerts as Prometheus series, one set per active alert, removed
/// when it resolves (never left at a stale value), so Prometheus rules and Alertmanager see
/// exactly the active alerts. Labels are bounded (scope level and code, source, severity,
/// fiscal year); the Vietnamese message stays out of labels.
public final class AlertSeries: Sendable {
    public static let active = "khuyencong_alert_active"
    public static let rate = "khuyencong_alert_execution_rate_pct"
    public static let threshold = "khuyencong_alert_threshold_pct"
    public static let periodMonth = "khuyencong_alert_period_month"
    public static let scopeInfo = "khuyencong_scope_info"
    public static let readSideReady = "khuyencong_read_side_ready"

    private struct Held: @unchecked Sendable {
        var active: Gauge
        var rate: Gauge
        var threshold: Gauge
        var month: Gauge
        var scope: ScopeKey
        /// The labels beyond the scope's: an update that keeps them keeps the series.
        var source: String
        var fiscalYear: Int
        var severity: String

        /// Whether `alert` has this alert's labels, severity aside.
        func hasScopeLabels(of alert: AlertMessage) -> Bool {
            scope == ScopeKey.of(alert) && source == alert.source && fiscalYear == alert.fiscal_year
        }
    }

    private struct ScopeKey: Hashable {
        var level: String
        var code: String
        var name: String

        static func of(_ alert: AlertMessage) -> ScopeKey {
            ScopeKey(level: alert.scope.level, code: alert.scope.code, name: alert.scope.name ?? alert.scope.code)
        }
    }

    private struct State: @unchecked Sendable {
        var held: [String: Held] = [:]
        var scopes: [ScopeKey: (gauge: Gauge, count: Int)] = [:]
        /// The latest message of each alert changed since the last `flush`.
        var pending: [String: AlertMessage] = [:]
    }

    private let registry: PrometheusCollectorRegistry
    private let state = Mutex(State())

    private let ready: Gauge

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        // Beside the alerts: while it is 0 the alert series are incomplete or stale.
        ready = registry.makeGauge(
            name: Self.readSideReady,
            help: "1 while the read side has caught up with the output topics (the alert series are current), else 0")
        ready.set(to: 0)
    }

    /// Follows the read model's readiness.
    func setReady(_ isReady: Bool) { ready.set(to: isReady ? 1 : 0) }

    /// Notes the latest message of one alert key. The series change at the next `flush`, when
    /// Prometheus (or the live table) reads them: registering a series copies the registry's
    /// table of its family, so it costs time in proportion to the active alerts, and at full input
    /// rate alerts are raised, moved and resolved many times between two scrapes (applying each
    /// change at once took ~3 % of the worker's CPU).
    func update(_ current: AlertMessage) {
        state.withLock { $0.pending[current.alert_id] = current }
    }

    /// Brings the series up to date with the latest message of each alert. An alert that stays on
    /// its scope, source and year keeps its series and their values move; a new severity replaces
    /// only the one series labelled with it.
    public func flush() {
        state.withLock { s in
            let pending = s.pending
            s.pending = [:]
            for current in pending.values { apply(current, &s) }
        }
    }

    private func apply(_ current: AlertMessage, _ s: inout State) {
        if var held = s.held[current.alert_id], current.isActive, held.hasScopeLabels(of: current) {
            if held.severity != current.severity {
                registry.unregisterGauge(held.active)
                held.active = makeActive(current)
                held.severity = current.severity
                s.held[current.alert_id] = held
            }
            set(held, current)
            return
        }
        if let held = s.held.removeValue(forKey: current.alert_id) { remove(held, &s) }
        if current.isActive { s.held[current.alert_id] = add(current, &s) }
    }

    private func set(_ held: Held, _ alert: AlertMessage) {
        held.active.set(to: 1.0)
        held.rate.set(to: Self.double(alert.execution_rate_pct))
        held.threshold.set(to: Self.double(alert.threshold_pct))
        held.month.set(to: Double(Int(alert.period_end.suffix(2)) ?? 0))
    }

    private func add(_ alert: AlertMessage, _ s: inout State) -> Held {
        let scope = Self.scopeLabels(alert)
        let active = makeActive(alert)
        let rate = registry.makeGauge(
            name: Self.rate, labels: scope,
            help: "Execution rate (% of the annual plan) of each active alert's scope and source")
        let threshold = registry.makeGauge(
            name: Self.threshold, labels: scope,
            help: "Threshold (% of the annual plan) of each active alert's current severity")
        let month = registry.makeGauge(
            name: Self.periodMonth, labels: scope,
            help: "Month (1-12) of the period each active alert was evaluated on")
        let key = ScopeKey.of(alert)
        if let held = s.scopes[key] {
            s.scopes[key] = (held.gauge, held.count + 1)
        } else {
            let info = registry.makeGauge(
                name: Self.scopeInfo, labels: [("level", key.level), ("code", key.code), ("name", key.name)],
                help: "The registry name of each scope with an active alert (join on level and code)")
            info.set(to: 1.0)
            s.scopes[key] = (info, 1)
        }
        let held = Held(
            active: active, rate: rate, threshold: threshold, month: month, scope: key, source: alert.source,
            fiscalYear: alert.fiscal_year, severity: alert.severity)
        set(held, alert)
        return held
    }

    private static func scopeLabels(_ alert: AlertMessage) -> [(String, String)] {
        [
            ("level", alert.scope.level), ("code", alert.scope.code), ("source", alert.source),
            ("fiscal_year", String(alert.fiscal_year)),
        ]
    }

    private func makeActive(_ alert: AlertMessage) -> Gauge {
        registry.makeGauge(
            name: Self.active, labels: Self.scopeLabels(alert) + [("severity", alert.severity)],
            help: "1 for each active under-execution alert (khuyencong.alerts.v1), by scope, source, severity and year")
    }

    private func remove(_ held: Held, _ s: inout State) {
        for gauge in [held.active, held.rate, held.threshold, held.month] { registry.unregisterGauge(gauge) }
        guard let scope = s.scopes[held.scope] else { return }
        if scope.count > 1 {
            s.scopes[held.scope] = (scope.gauge, scope.count - 1)
        } else {
            registry.unregisterGauge(scope.gauge)
            s.scopes[held.scope] = nil
        }
    }

    private static func double(_ value: Hundredths?) -> Double {
        guard let value else { return .nan }
        return Double(value.value) / 100
    }
}
