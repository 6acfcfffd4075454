import Core
import Testing

@Suite struct MoneyTests {
    @Test func commissionRoundsHalfUpToTheCent() {
        #expect(Money.commission(on: 12_345, basisPoints: 1000) == 1_235)  // 1234.5 → 1235
        #expect(Money.commission(on: 12_344, basisPoints: 1000) == 1_234)  // 1234.4 → 1234
        #expect(Money.commission(on: 100_000, basisPoints: 1250) == 12_500)
        #expect(Money.commission(on: 1, basisPoints: 5000) == 1)  // 0.5 → 1
        #expect(Money.commission(on: 0, basisPoints: 1000) == 0)
    }

    @Test func deliveryFeeSplitsIntoWholeShillingsWithTheRemainderFirst() {
        #expect(Money.splitWholeShillings(50_000, into: 3) == [16_800, 16_600, 16_600])
        #expect(Money.splitWholeShillings(30_000, into: 3) == [10_000, 10_000, 10_000])
        #expect(Money.splitWholeShillings(100, into: 2) == [100, 0])
        #expect(Money.splitWholeShillings(50_000, into: 3).reduce(0, +) == 50_000)
    }

    @Test func wholeShillings() {
        #expect(Money.isWholeShillings(15_000))
        #expect(!Money.isWholeShillings(15_050))
    }
}

@Suite struct PhoneNumberTests {
    @Test(arguments: [
        ("0712345678", "254712345678"), ("0112345678", "254112345678"), ("+254712345678", "254712345678"),
        ("254 712 345 678", "254712345678"), ("0712-345-678", "254712345678"),
    ])
    func normalisesKenyanMobiles(raw: String, expected: String) {
        #expect(PhoneNumber(normalising: raw)?.value == expected)
    }

    @Test(arguments: ["", "0812345678", "071234567", "25471234567890", "07123456ab", "+1 415 555 0100", "٠٧١٢٣٤٥٦٧٨"])
    func rejectsOtherNumbers(raw: String) {
        #expect(PhoneNumber(normalising: raw) == nil)
    }
}
