/// Amounts are exact integer đồng. The contract bounds each amount to 0…10^15, so sums of a
/// few hundred of them fit in Int64; every sum is still overflow-checked so a bug can never
/// wrap silently.
public enum Money {
    /// Largest amount the contract accepts (10^15 đồng).
    public static let maxAmount: Int64 = 1_000_000_000_000_000

    public struct Overflow: Error, Sendable, CustomStringConvertible {
        @inlinable public init() {}
        public var description: String { "amount arithmetic overflowed Int64" }
    }

    /// Checked addition.
    @inlinable
    public static func add(_ a: Int64, _ b: Int64) throws(Overflow) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if overflow { throw Overflow() }
        return sum
    }
}
