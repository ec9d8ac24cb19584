import Domain
import Hummingbird

/// Integers in query parameters, strictly: ASCII digits only, no sign, no leading zero, no
/// spaces. `year=+2022`, `year=02022` and `year= 2022` are mistakes a caller should hear about,
/// not guesses the server makes (Swift's `Int("+2022")` accepts the first).
enum StrictInteger {
    static func parse(_ text: String, in range: ClosedRange<Int>) -> Int? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 9, bytes.allSatisfy({ (0x30...0x39).contains($0) }),
            bytes.count == 1 || bytes[0] != 0x30
        else { return nil }
        let value = bytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        return range.contains(value) ? value : nil
    }
}

/// The dashboard's and exports' period filter: `year` and `month`, both optional.
enum PeriodQuery {
    struct Invalid: Error {
        let message: String
    }

    /// nil: the latest period. `year` alone: that year's latest month with data
    /// (`latestIn`), else December. `month` needs `year`.
    static func parse(_ query: Parameters, latest latestIn: (Int) -> YearMonth?) -> Result<YearMonth?, Invalid> {
        var year: Int?
        if let text = query["year"] {
            guard let y = StrictInteger.parse(String(text), in: FiscalYear.range) else {
                return .failure(
                    Invalid(
                        message: "Năm (year) phải là số nguyên từ "
                            + "\(FiscalYear.range.lowerBound) đến "
                            + "\(FiscalYear.range.upperBound), ví dụ year=2022."))
            }
            year = y
        }
        var month: Int?
        if let text = query["month"] {
            guard let m = StrictInteger.parse(String(text), in: 1...12) else {
                return .failure(
                    Invalid(
                        message: "Tháng (month) phải là số nguyên từ 1 đến 12, ví "
                            + "dụ month=7."))
            }
            month = m
        }
        switch (year, month) {
        case (nil, nil): return .success(nil)
        case (nil, _?):
            return .failure(
                Invalid(
                    message: "Chọn tháng thì phải chọn cả năm (year), ví dụ "
                        + "year=2022&month=7."))
        case (let y?, nil): return .success(latestIn(y) ?? YearMonth(year: y, month: 12))
        case (let y?, let m?): return .success(YearMonth(year: y, month: m))
        }
    }
}
