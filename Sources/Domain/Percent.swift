/// Exact percentages as integer hundredths (12.11 % = 1211), rounded half away from zero.
public enum Percent {
    /// (num / den) × 100 in hundredths of a percent; nil when `den` is 0.
    public static func ofRatio(_ num: Int128, _ den: Int128) -> Int128? {
        rounded(num, den, decimalDigits: 4)
    }

    /// A value already in percent given as num / den, in hundredths; nil when `den` is 0.
    public static func ofPercent(_ num: Int128, _ den: Int128) -> Int128? {
        rounded(num, den, decimalDigits: 2)
    }

    /// num/den × 10^digits rounded half away from zero: one 64- or 128-bit division when the
    /// scaled numerator fits, else long division; nil (never a trap) if even that overflows.
    static func rounded(_ num: Int128, _ den: Int128, decimalDigits: Int) -> Int128? {
        guard den != 0 else { return nil }
        let negative = (num < 0) != (den < 0)
        let n = num.magnitude, d = den.magnitude
        let scale: UInt128 = decimalDigits == 4 ? 10_000 : decimalDigits == 2 ? 100 : 0
        var q: UInt128, r: UInt128
        if scale != 0, n <= UInt128(UInt64.max) / scale, d <= UInt128(UInt64.max) {
            let s = UInt64(n * scale), d64 = UInt64(d)
            q = UInt128(s / d64)
            r = UInt128(s % d64)
        } else if scale != 0, n <= UInt128.max / scale {
            let s = n * scale
            q = s / d
            r = s % d
        } else {
            q = n / d
            r = n % d
            for _ in 0..<decimalDigits {
                let (q10, o1) = q.multipliedReportingOverflow(by: 10)
                let (r10, o2) = r.multipliedReportingOverflow(by: 10)
                guard !o1, !o2 else { return nil }
                q = q10 + r10 / d
                r = r10 % d
            }
        }
        if r >= d - r { q += 1 }  // r ≥ d/2 without computing 2r
        guard q <= UInt128(Int128.max) else { return nil }
        return negative ? -Int128(q) : Int128(q)
    }

    /// JSON number text with exactly two decimals: 1211 → "12.11", 1210 → "12.10", -5 → "-0.05".
    public static func json(_ hundredths: Int128) -> String {
        let (intPart, frac) = split(hundredths)
        return (hundredths < 0 ? "-" : "") + String(intPart) + "." + frac
    }

    /// Vietnamese formatting: 1211 → "12,11", 123456 → "1.234,56".
    public static func vietnamese(_ hundredths: Int128) -> String {
        let (intPart, frac) = split(hundredths)
        return (hundredths < 0 ? "-" : "") + groupingThousands(String(intPart)) + "," + frac
    }

    /// Digits grouped by thousands: "1234567" → "1.234.567" (Vietnamese), or with `separator` ",".
    public static func groupingThousands(_ digits: String, separator: Character = ".") -> String {
        var grouped = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { grouped.append(separator) }
            grouped.append(c)
        }
        return grouped
    }

    private static func split(_ hundredths: Int128) -> (UInt128, String) {
        let m = hundredths.magnitude
        let frac = m % 100
        return (m / 100, frac < 10 ? "0\(frac)" : "\(frac)")
    }
}
