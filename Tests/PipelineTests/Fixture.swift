/// A small stream whose expected outputs were worked out by hand (see the comments), not by the
/// aggregation code. Year 2022, registry 2004; July pace = 7/12 = 58.33 %, so a July warning
/// is below 35 % and a critical below 17.5 %.
enum Fixture {
    static func update(
        _ province: String, _ period: String, _ source: String, _ status: String,
        plan: Int64, executed: Int64, revision: Int, report: String? = nil
    ) -> String {
        let id = report ?? "R-\(province)-\(period)-\(source)-\(status)-\(revision)"
        return #"{"schema":"khuyencong.execution-update.v1","report_id":"\#(id)","province":"\#(province)","#
            + #""fiscal_year":2022,"#
            + #""period_end":"\#(period)","source":"\#(source)","status":"\#(status)","plan_vnd":\#(plan),"#
            + #""executed_vnd":\#(executed),"revision":\#(revision),"reported_at":"2022-08-05T09:30:00+07:00"}"#
    }

    static let billion: Int64 = 1_000_000_000

    /// Accepted inputs (in per-province order) plus one duplicate and one stale input.
    static let good: [(key: String?, value: [UInt8]?)] = [
        // 49 Quảng Nam (miền Trung – Tây Nguyên): KCQG 1.211 of 10 bn (12.11 %), KCĐP 2 of 5 bn.
        (
            "49",
            Array(
                update("49", "2022-07", "KCQG", "actual", plan: 10 * billion, executed: 1_211_000_000, revision: 1).utf8
            )
        ),
        (
            "49",
            Array(update("49", "2022-07", "KCDP", "actual", plan: 5 * billion, executed: 2 * billion, revision: 1).utf8)
        ),
        // 48 Đà Nẵng: KCQG estimate, revision 2 (1.8 of 4 bn) replaces revision 1 (1.0 of 4 bn).
        (
            "48",
            Array(
                update("48", "2022-07", "KCQG", "estimate", plan: 4 * billion, executed: 1 * billion, revision: 1).utf8)
        ),
        (
            "48",
            Array(
                update("48", "2022-07", "KCQG", "estimate", plan: 4 * billion, executed: 1_800_000_000, revision: 2)
                    .utf8)
        ),
        // 01 Hà Nội (Bắc): 7.2 of 20 bn = 36 %.
        (
            "01",
            Array(
                update("01", "2022-07", "KCQG", "actual", plan: 20 * billion, executed: 7_200_000_000, revision: 1).utf8
            )
        ),
        // 79 TP HCM (Nam): June only, KCĐP 3 of 8 bn = 37.5 %.
        (
            "79",
            Array(update("79", "2022-06", "KCDP", "actual", plan: 8 * billion, executed: 3 * billion, revision: 1).utf8)
        ),
        // Duplicate of 49 KCQG revision 1, and a stale 48 revision 1 after revision 2.
        (
            "49",
            Array(
                update("49", "2022-07", "KCQG", "actual", plan: 10 * billion, executed: 1_211_000_000, revision: 1).utf8
            )
        ),
        (
            "48",
            Array(
                update("48", "2022-07", "KCQG", "estimate", plan: 4 * billion, executed: 1 * billion, revision: 1).utf8)
        ),
    ]

    /// Inputs to reject: malformed JSON, key ≠ province, and a conflicting revision of 49 KCQG r1.
    static let bad: [(key: String?, value: [UInt8]?)] = [
        ("45", Array("{\"schema\":".utf8)),
        ("46", Array(update("45", "2022-07", "KCQG", "actual", plan: 1, executed: 1, revision: 1).utf8)),
        (
            "49",
            Array(
                update("49", "2022-07", "KCQG", "actual", plan: 10 * billion, executed: 1_300_000_000, revision: 1).utf8
            )
        ),
    ]

    static let expectedRejections = ["malformed_json", "key_mismatch", "conflicting_revision"]

    /// Hand-computed finals: key → (revision, totals executed, totals plan, totals rate, status).
    /// Revision counts accepted reports among the summary's inputs (duplicate/stale excluded).
    static let expectedSummaries:
        [String: (revision: Int, executed: Int64, plan: Int64, rate: Double, status: String)] = [
            // 49: 1.211 + 2, 48: 1.8 → 5.011 of 19 bn = 26.37 %; accepted: 49×2, 48×2.
            "mien-trung-tay-nguyen/2022/2022-07": (4, 5_011_000_000, 19 * billion, 26.37, "estimate"),
            "bac/2022/2022-07": (1, 7_200_000_000, 20 * billion, 36.00, "actual"),
            "nam/2022/2022-06": (1, 3 * billion, 8 * billion, 37.50, "actual"),
            "ca-nuoc/2022/2022-06": (1, 3 * billion, 8 * billion, 37.50, "actual"),
            // 5.011 + 7.2 + 3 (79 carried) = 15.211 of 47 bn = 32.36 %; 6 accepted.
            "ca-nuoc/2022/2022-07": (6, 15_211_000_000, 47 * billion, 32.36, "estimate"),
        ]

    /// Active alerts at the end (key → severity): 49 KCQG 12.11 % < 17.5; 49 total 3.211/15 =
    /// 21.41 %; region KCQG 3.011/14 = 21.51 %, total 26.37 %; national KCQG 10.211/34 = 30.03 %,
    /// total 32.36 %. None of these sits within 2 points above a threshold, so the order of
    /// inputs cannot leave a different severity behind.
    static let expectedActiveAlerts: [String: String] = [
        "province:49/2022/KCQG": "critical",
        "province:49/2022/total": "warning",
        "region:mien-trung-tay-nguyen/2022/KCQG": "warning",
        "region:mien-trung-tay-nguyen/2022/total": "warning",
        "national/2022/KCQG": "warning",
        "national/2022/total": "warning",
    ]

    /// Good and bad inputs interleaved (the conflict after the report it conflicts with).
    static var stream: [(key: String?, value: [UInt8]?)] {
        [good[0], bad[0], good[1], good[2], bad[1], good[3], good[4], bad[2], good[5], good[6], good[7]]
    }
}
