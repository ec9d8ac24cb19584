/// Lexical forms of the contract's string members, checked on UTF-8 bytes.
enum Forms {
    static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

    /// The value of a run of ASCII digits (callers check the form first).
    static func number(_ digits: some Collection<UInt8>) -> Int {
        digits.reduce(0) { $0 &* 10 &+ Int($1 &- 0x30) }
    }

    /// 1–128 characters of `[A-Za-z0-9._:-]`.
    static func isReportID(_ s: UnsafeRawBufferPointer) -> Bool {
        guard (1...128).contains(s.count) else { return false }
        return s.allSatisfy { b in
            isDigit(b) || (b | 0x20) &- UInt8(ascii: "a") < 26
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: ":") || b == UInt8(ascii: "-")
        }
    }

    /// Exactly two ASCII digits.
    static func isProvinceCode(_ s: UnsafeRawBufferPointer) -> Bool {
        s.count == 2 && isDigit(s[0]) && isDigit(s[1])
    }

    /// `DDDD-DD`; the month's range is a separate check (period_out_of_range).
    static func isYearMonthForm(_ s: UnsafeRawBufferPointer) -> Bool {
        s.count == 7 && s[4] == UInt8(ascii: "-")
            && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) && isDigit(s[3]) && isDigit(s[5]) && isDigit(s[6])
    }

    /// RFC 3339 `date-time` (section 5.6): full date, `T`, time with optional fraction, and a
    /// required offset (`Z` or ±hh:mm). `T` and `Z` may be lower case, as RFC 3339 allows.
    /// Calendar dates are checked (leap years); a leap second (:60) is refused, as the schema
    /// checker does.
    static func isRFC3339DateTime(_ s: UnsafeRawBufferPointer) -> Bool {
        guard s.count >= 20 else { return false }
        // Index by index, not through slices: this runs for every update.
        func digits(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= s.count else { return nil }
            var value = 0
            for k in at..<at + n {
                let d = s[k] &- 0x30
                guard d < 10 else { return nil }
                value = value &* 10 &+ Int(d)
            }
            return value
        }
        guard let year = digits(0, 4), s[4] == UInt8(ascii: "-"), let month = digits(5, 2), s[7] == UInt8(ascii: "-"),
            let day = digits(8, 2), s[10] | 0x20 == UInt8(ascii: "t"),
            let hour = digits(11, 2), s[13] == UInt8(ascii: ":"), let minute = digits(14, 2),
            s[16] == UInt8(ascii: ":"), let second = digits(17, 2)
        else { return false }
        guard (1...12).contains(month), day >= 1, day <= daysIn(year: year, month: month),
            hour <= 23, minute <= 59, second <= 59
        else { return false }
        var i = 19
        if s[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < s.count, isDigit(s[i]) { i += 1 }
            guard i > start, i < s.count else { return false }
        }
        if s[i] | 0x20 == UInt8(ascii: "z") { return i + 1 == s.count }
        guard s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-"), s.count == i + 6,
            let oh = digits(i + 1, 2), s[i + 3] == UInt8(ascii: ":"), let om = digits(i + 4, 2)
        else { return false }
        return oh <= 23 && om <= 59
    }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
