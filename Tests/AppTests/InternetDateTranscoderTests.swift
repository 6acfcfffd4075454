import Foundation
import OpenAPIRuntime
import Testing

@testable import Server

@Suite struct InternetDateTranscoderTests {
    /// Whatever the date, the same text as the runtime's own transcoder (Foundation's formatter).
    @Test func writesWhatFoundationWrites() throws {
        // Setup: edges (epoch, leap days, year ends, last second of a day, fractions just under a
        // second) and a seeded spread over 1970-2200.
        var generator = SeededRandom(seed: 20261201)
        var dates = [0, 951_782_400, 951_868_799.999, 1_709_164_800, 4_107_542_399.5, 1_798_761_599.999_999, 1_798_761_599.9995, 1_798_761_599.9994, 253_402_300_799]
            .map(Date.init(timeIntervalSince1970:))
        for _ in 0..<20_000 {
            dates.append(Date(timeIntervalSince1970: Double(generator.next() % 7_258_118_400) + Double(generator.next() % 1_000_000) / 1_000_000))
        }
        let foundation = ISO8601DateTranscoder()
        let ours = InternetDateTranscoder()

        // Act and check
        for date in dates {
            #expect(try ours.encode(date) == foundation.encode(date), "\(date.timeIntervalSince1970)")
        }
    }
}
