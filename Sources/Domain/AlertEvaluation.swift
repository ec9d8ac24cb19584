/// Where an alert applies: a unit (`province:49`), a region (`region:bac`) or the nation.
public enum AlertScope: Sendable, Hashable, Comparable {
    case province(String)
    case region(RegionID)
    case national

    /// `province:49`, `region:bac`, `national`.
    public var id: String {
        switch self {
        case .province(let c): "province:\(c)"
        case .region(let r): "region:\(r.rawValue)"
        case .national: "national"
        }
    }

    var level: String {
        switch self {
        case .province: "province"
        case .region: "region"
        case .national: "national"
        }
    }

    var code: String {
        switch self {
        case .province(let c): c
        case .region(let r): r.rawValue
        case .national: "VN"
        }
    }

    public static func < (a: AlertScope, b: AlertScope) -> Bool { a.id < b.id }
}

/// `KCQG`, `KCDP` or `total`.
public enum AlertSource: String, Sendable, Hashable, CaseIterable, Comparable {
    case kcqg = "KCQG"
    case kcdp = "KCDP"
    case total

    var messageLabel: String {
        switch self {
        case .kcqg: "Kinh phí KCQG"
        case .kcdp: "Kinh phí KCĐP"
        case .total: "Tổng kinh phí khuyến công"
        }
    }

    public static func < (a: AlertSource, b: AlertSource) -> Bool { a.rawValue < b.rawValue }
}

/// `{scope}/{fiscal_year}/{source}`: the alert's key and id.
public struct AlertKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var scope: AlertScope
    public var fiscalYear: Int
    public var source: AlertSource
    public var description: String { "\(scope.id)/\(fiscalYear)/\(source.rawValue)" }
    public static func < (a: AlertKey, b: AlertKey) -> Bool { a.description < b.description }
}

/// An alert that is raised (until resolved): what emit-on-change and hysteresis need.
struct ActiveAlert: Sendable, Equatable {
    var severity: AlertRules.Severity
    /// Timestamp of the batch that raised this episode.
    var raisedAt: String
    /// The month M it was last evaluated on.
    var month: Int
    /// The last emitted alert message (for queries).
    var message: [UInt8]
}

/// What an emitted alert message says happened (its `state` member).
public enum AlertTransition: String, Sendable, Hashable, CaseIterable {
    case raised, updated, resolved
}

/// One evaluation's inputs: the scope's latest month and its figures there.
struct AlertObservation {
    var month: Int
    var plan: Int128
    var executed: Int128
    var scopeName: String
    /// How the scope reads inside a Vietnamese sentence ("khu vực phía Bắc", "cả nước").
    var scopeInSentence: String
}

/// The default rules' state machine with exact rational comparisons. Thresholds are
/// percentages expressed as numerators over `denominator` (so 17.5 % = 2_100_000 / 120_000).
enum AlertEvaluation {
    static let denominator: Int128 = 120_000

    /// Threshold (percent) numerator of `level` at month m.
    static func threshold(_ belowHundredths: Int64, _ basis: AlertRules.Basis, month m: Int) -> Int128 {
        switch basis {
        case .pace: Int128(belowHundredths) * Int128(m) * 100  // below% × (m/12 × 100)
        case .plan: Int128(belowHundredths) * 1200
        }
    }

    /// rate = executed/plan × 100 < num/denominator, exactly (plan > 0).
    static func below(_ o: AlertObservation, _ num: Int128) -> Bool {
        o.executed * 100 * denominator < num * o.plan
    }

    /// The severity after observing `o` from `prior` (nil = none), with the recovery margin.
    static func severity(_ o: AlertObservation, prior: AlertRules.Severity?, band: AlertRules.Band, margin: Int64)
        -> AlertRules.Severity?
    {
        let crit = threshold(band.critical.belowHundredths, band.basis, month: o.month)
        let warn = threshold(band.warning.belowHundredths, band.basis, month: o.month)
        let m = Int128(margin) * 1200
        if below(o, crit) { return .critical }
        switch prior {
        case nil: return below(o, warn) ? .warning : nil
        case .critical?: return below(o, crit + m) ? .critical : below(o, warn + m) ? .warning : nil
        case .warning?: return below(o, warn + m) ? .warning : nil
        }
    }

    typealias Transition = AlertTransition

    /// Evaluates one alert key; returns the message to emit with its transition (if any) and the
    /// new active state.
    static func evaluate(
        key: AlertKey, observation o: AlertObservation, prior: ActiveAlert?, rules: AlertRules, timestamp: String
    ) -> (emitted: (message: [UInt8], transition: AlertTransition)?, state: ActiveAlert?) {
        // A month in no band is not evaluated, except that a plan of 0 still resolves an active
        // alert (its severity, rule and threshold from the band it was last evaluated in).
        guard
            let band = rules.band(forMonth: o.month)
                ?? (o.plan == 0 ? prior.flatMap { rules.band(forMonth: $0.month) } : nil)
        else { return (nil, prior) }
        let next: AlertRules.Severity? =
            o.plan == 0
            ? nil
            : severity(o, prior: prior?.severity, band: band, margin: rules.recoveryMarginHundredths)
        let transition: Transition
        switch (prior, next) {
        case (nil, nil): return (nil, nil)
        case (nil, .some): transition = .raised
        case (.some, nil): transition = .resolved
        case (.some(let p), .some(let n)):
            guard p.severity != n || p.month != o.month else { return (nil, prior) }
            transition = .updated
        }
        let severity = next ?? prior?.severity ?? .warning
        let raisedAt = prior?.raisedAt ?? timestamp
        let json = message(
            key: key, o: o, transition: transition, severity: severity, band: band, rules: rules, raisedAt: raisedAt)
        let state = next.map { ActiveAlert(severity: $0, raisedAt: raisedAt, month: o.month, message: json) }
        return ((json, transition), state)
    }

    static func message(
        key: AlertKey, o: AlertObservation, transition: Transition, severity: AlertRules.Severity,
        band: AlertRules.Band, rules: AlertRules, raisedAt: String
    ) -> [UInt8] {
        let level = severity == .critical ? band.critical : band.warning
        let thr = threshold(level.belowHundredths, band.basis, month: o.month)
        let thrPct = Percent.ofPercent(thr, denominator)
        let rate = Percent.ofRatio(o.executed, o.plan)
        var w = AggregateJSON(capacity: 640)
        w.beginObject()
        w.key("schema"); w.string("khuyencong.alert.v1")
        w.key("alert_id"); w.string(key.description)
        w.key("state"); w.string(transition.rawValue)
        w.key("severity"); w.string(severity.rawValue)
        w.key("scope"); w.beginObject()
        w.key("level"); w.string(key.scope.level)
        w.key("code"); w.string(key.scope.code)
        w.key("name"); w.string(o.scopeName)
        w.endObject()
        w.key("fiscal_year"); w.int(key.fiscalYear)
        w.key("period_end"); w.string(YearMonth(year: key.fiscalYear, month: o.month).description)
        w.key("source"); w.string(key.source.rawValue)
        w.key("execution_rate_pct"); w.percent(rate)
        w.key("expected_rate_pct"); w.percent(Percent.ofPercent(Int128(o.month) * 100, 12))
        w.key("threshold_pct"); w.percent(thrPct)
        w.key("rule"); w.string(level.rule)
        w.key("message");
        w.string(
            sentence(
                key: key, o: o, transition: transition, severity: severity, rate: rate, thresholdPct: thrPct,
                band: band, rules: rules))
        w.key("raised_at"); w.string(raisedAt)
        w.endObject()
        return w.bytes
    }

    /// "Kinh phí KCQG khu vực miền Trung – Tây Nguyên 7 tháng đầu năm 2022 đạt 12,11% kế hoạch
    /// năm, thấp hơn ngưỡng 17,50%" (month 12: "cả năm 2022"). A severity kept only by the
    /// recovery margin (rate at or above its threshold) names the level still to reach instead,
    /// so the sentence never says "below" a threshold the rate is not below.
    static func sentence(
        key: AlertKey, o: AlertObservation, transition: Transition, severity: AlertRules.Severity, rate: Int128?,
        thresholdPct: Int128?, band: AlertRules.Band, rules: AlertRules
    ) -> String {
        let period = o.month == 12 ? "cả năm \(key.fiscalYear)" : "\(o.month) tháng đầu năm \(key.fiscalYear)"
        let head = "\(key.source.messageLabel) \(o.scopeInSentence) \(period)"
        guard let rate else { return "\(head): kế hoạch năm bằng 0, hết cảnh báo" }
        let achieved = "\(head) đạt \(Percent.vietnamese(rate))% kế hoạch năm"
        if transition == .resolved {
            let exit =
                threshold(band.warning.belowHundredths, band.basis, month: o.month) + Int128(
                    rules.recoveryMarginHundredths) * 1200
            let exitPct = Percent.ofPercent(exit, denominator).map(Percent.vietnamese) ?? "?"
            return "\(achieved), đạt ngưỡng kết thúc cảnh báo \(exitPct)%; hết cảnh báo"
        }
        let level = severity == .critical ? band.critical : band.warning
        let thr = threshold(level.belowHundredths, band.basis, month: o.month)
        guard below(o, thr) else {
            let exit =
                Percent.ofPercent(thr + Int128(rules.recoveryMarginHundredths) * 1200, denominator).map(
                    Percent.vietnamese) ?? "?"
            let what = severity == .critical ? "ngưỡng hạ mức cảnh báo" : "ngưỡng kết thúc cảnh báo"
            return "\(achieved), chưa đạt \(what) \(exit)%"
        }
        return "\(achieved), thấp hơn ngưỡng \(thresholdPct.map(Percent.vietnamese) ?? "?")%"
    }
}
