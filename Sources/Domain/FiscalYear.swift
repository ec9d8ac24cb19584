/// The contract's fiscal years. Every check of `fiscal_year` (decoder, aggregator, HTTP
/// queries) asks here.
public enum FiscalYear {
    /// The fiscal years the contract accepts; `period_end` must lie in its fiscal year.
    public static let range: ClosedRange<Int> = 2000...2100
}
