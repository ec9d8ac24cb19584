/// A calendar month, as in `period_end` ("YYYY-MM").
public struct YearMonth: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    /// 1…12
    public let month: Int

    public init(year: Int, month: Int) {
        self.year = year
        self.month = month
    }

    /// Parses exactly `YYYY-MM` with month 01–12; nil otherwise.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 7, bytes[4] == UInt8(ascii: "-"),
            bytes.enumerated().allSatisfy({ $0.offset == 4 || (0x30...0x39).contains($0.element) })
        else { return nil }
        let digit = { (i: Int) in Int(bytes[i] - 0x30) }
        let month = digit(5) * 10 + digit(6)
        guard (1...12).contains(month) else { return nil }
        self.init(year: digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3), month: month)
    }

    public var description: String {
        let y = String(year), m = String(month)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + "-" + (m.count == 1 ? "0" + m : m)
    }

    public static func < (a: YearMonth, b: YearMonth) -> Bool {
        (a.year, a.month) < (b.year, b.month)
    }

    /// The same month one year earlier.
    public var previousYear: YearMonth { YearMonth(year: year - 1, month: month) }
}
