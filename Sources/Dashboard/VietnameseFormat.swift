import Domain
import ReadSide

/// Vietnamese number and date formats for the pages: 12,11 %; 20,7 tỷ đồng; 31/07/2022.
/// Hand-written: Foundation's locale data is not reliably present on Linux servers, and the
/// figures must be rounded from the exact integers, never through floating point.
public enum VietnameseFormat {
    /// 12,11 % (nil: —).
    public static func percent(_ value: Hundredths?) -> String {
        guard let value else { return "—" }
        return Percent.vietnamese(value.value) + " %"
    }

    /// +62,15 % / -10,08 % for changes (nil: —).
    public static func change(_ value: Hundredths?) -> String {
        guard let value else { return "—" }
        return (value.value > 0 ? "+" : "") + Percent.vietnamese(value.value) + " %"
    }

    /// An amount in tỷ đồng (10^9) with `decimals` decimals, rounded half away from zero from
    /// the exact đồng: 20_700_000_000 → "20,7". Thousands grouped with dots.
    public static func billions(_ vnd: Int64?, decimals: Int = 1) -> String {
        guard let vnd else { return "—" }
        let unit = Int128(1_000_000_000)
        var scale: Int128 = 1
        for _ in 0..<decimals { scale *= 10 }
        let magnitude = Int128(vnd).magnitude
        let scaled = (UInt128(magnitude) * UInt128(scale) * 2 + UInt128(unit)) / (2 * UInt128(unit))
        let whole = scaled / UInt128(scale), fraction = scaled % UInt128(scale)
        var text = Percent.groupingThousands(String(whole))
        if decimals > 0 {
            let f = String(fraction)
            text += "," + String(repeating: "0", count: decimals - f.count) + f
        }
        return (vnd < 0 && scaled > 0 ? "-" : "") + text
    }

    /// An exact amount in đồng, grouped: 1.234.567.
    public static func dong(_ vnd: Int64?) -> String {
        guard let vnd else { return "—" }
        return (vnd < 0 ? "-" : "") + Percent.groupingThousands(String(Int128(vnd).magnitude))
    }

    /// The period's last day: 2022-07 → 31/07/2022.
    public static func periodEndDate(_ period: YearMonth) -> String {
        "\(lastDay(period))/\(two(period.month))/\(period.year)"
    }

    /// 2022-07 → "7 tháng đầu năm 2022" (12: "cả năm 2022").
    public static func cumulativeLabel(_ period: YearMonth) -> String {
        period.month == 12 ? "cả năm \(period.year)" : "\(period.month) tháng đầu năm \(period.year)"
    }

    /// 2022-07 → "07/2022".
    public static func month(_ period: YearMonth) -> String { "\(two(period.month))/\(period.year)" }

    /// "2022-08-10T09:00:00Z" → "10/08/2022 16:00" in Vietnam time (UTC+7, no daylight saving);
    /// text that is not an RFC 3339 date-time is shown as it is.
    public static func dateTime(_ rfc3339: String?) -> String {
        guard let rfc3339 else { return "—" }
        guard let utc = UTCDateTime(rfc3339) else { return rfc3339 }
        let local = utc.adding(minutes: 7 * 60)
        return "\(two(local.day))/\(two(local.month))/\(local.year) \(two(local.hour)):\(two(local.minute))"
    }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    static func lastDay(_ p: YearMonth) -> Int {
        switch p.month {
        case 2: (p.year % 4 == 0 && p.year % 100 != 0) || p.year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// estimate → Ước thực hiện, actual → Thực hiện.
    public static func status(_ status: String?) -> String {
        switch status {
        case "estimate": "Ước thực hiện"
        case "actual": "Thực hiện"
        default: "—"
        }
    }

    /// critical → Nghiêm trọng, warning → Cảnh báo.
    public static func severity(_ severity: String) -> String {
        severity == "critical" ? "Nghiêm trọng" : "Cảnh báo"
    }
}

/// A date-time of RFC 3339 text brought to UTC, to the minute.
struct UTCDateTime {
    var year: Int, month: Int, day: Int, hour: Int, minute: Int

    /// `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`.
    init?(_ text: String) {
        let b = Array(text.utf8)
        guard b.count >= 20 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var n = 0
            for i in from..<(from + count) {
                guard (0x30...0x39).contains(b[i]) else { return nil }
                n = n * 10 + Int(b[i] - 0x30)
            }
            return n
        }
        guard let y = number(0, 4), let mo = number(5, 2), let d = number(8, 2), let h = number(11, 2),
            let mi = number(14, 2), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60
        else { return nil }
        year = y; month = mo; day = d; hour = h; minute = mi
        var offsetMinutes = 0
        if b.last == UInt8(ascii: "Z") || b.last == UInt8(ascii: "z") {
            offsetMinutes = 0
        } else {
            let o = b.count - 6
            guard o >= 19, b[o] == UInt8(ascii: "+") || b[o] == UInt8(ascii: "-"), let oh = number(o + 1, 2),
                let om = number(o + 4, 2)
            else { return nil }
            offsetMinutes = (oh * 60 + om) * (b[o] == UInt8(ascii: "-") ? -1 : 1)
        }
        self = adding(minutes: -offsetMinutes)
    }

    func adding(minutes: Int) -> UTCDateTime {
        var copy = self
        var total = hour * 60 + minute + minutes
        var dayShift = 0
        while total < 0 { total += 1440; dayShift -= 1 }
        while total >= 1440 { total -= 1440; dayShift += 1 }
        copy.hour = total / 60
        copy.minute = total % 60
        for _ in 0..<abs(dayShift) { copy.shiftDay(dayShift > 0 ? 1 : -1) }
        return copy
    }

    private mutating func shiftDay(_ by: Int) {
        day += by
        if day < 1 {
            month -= 1
            if month < 1 { month = 12; year -= 1 }
            day = VietnameseFormat.lastDay(YearMonth(year: year, month: month))
        } else if day > VietnameseFormat.lastDay(YearMonth(year: year, month: month)) {
            day = 1
            month += 1
            if month > 12 { month = 1; year += 1 }
        }
    }
}
