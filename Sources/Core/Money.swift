/// Money rules (SPEC section 2): every amount is an integer count of KES cents.
public enum Money {
    public static let centsPerShilling: Int64 = 100
    /// A zone's delivery fee: at most 100,000 shillings.
    public static let maximumDeliveryFeeCents: Int64 = 10_000_000
    /// Cash a staff member may declare in one remittance: at most 10,000,000 shillings, far above
    /// any day's takings and far below anything that could overflow a sum.
    public static let maximumDeclaredCents: Int64 = 1_000_000_000

    /// M-Pesa moves whole shillings only, so prices and fees must be multiples of 100 cents.
    public static func isWholeShillings(_ cents: Int64) -> Bool {
        cents % centsPerShilling == 0
    }

    /// Commission in basis points of an amount, rounded half up to the cent.
    public static func commission(on cents: Int64, basisPoints: Int) -> Int64 {
        precondition(cents >= 0 && basisPoints >= 0)
        return (cents * Int64(basisPoints) + 5_000) / 10_000
    }

    /// Splits a fee into `parts` equal shares in whole shillings; the remainder goes on the first.
    public static func splitWholeShillings(_ cents: Int64, into parts: Int) -> [Int64] {
        precondition(parts > 0 && cents >= 0 && isWholeShillings(cents))
        let shillings = cents / centsPerShilling
        let share = shillings / Int64(parts)
        let remainder = shillings - share * Int64(parts)
        return (0..<parts).map { index in
            (share + (index == 0 ? remainder : 0)) * centsPerShilling
        }
    }
}
