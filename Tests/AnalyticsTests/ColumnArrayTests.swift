@testable import Analytics
import PostgresNIO
import TestSupport
import Testing

/// An export reads its statement as one row holding an array per column; the same statement
/// read row by row is the reference, and a few values are also written out by hand.
@Suite struct ColumnArrayTests {
    static let columns = ["rank", "id", "name", "amount", "count", "rate"]

    @Test func aStatementReadAsArraysIsTheTableReadAsRows() async throws {
        try await World.with { world in
            // Setup: every type a report carries, a null in each, text a CSV must quote, and both
            // ends of the integers; the statement's order is not the order the values are written.
            let sql = """
                SELECT rank, id, name, amount, count, rate FROM (VALUES
                    (3, '5d0c2a4e-9b1f-4c3a-8e7d-000000000003'::uuid, 'Duka "Bora", Ltd', 9223372036854775807::bigint, 2147483647, 4.50::numeric),
                    (1, NULL, E'line\\r\\nbreak', '-9223372036854775808'::bigint, '-2147483648'::int4, -0.0500::numeric),
                    (5, 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'::uuid, NULL, 0::bigint, NULL, 123456789012.25::numeric),
                    (2, '00000000-0000-0000-0000-000000000000'::uuid, 'Mkate wa ngano 🍞', NULL, 0, NULL),
                    (4, '5d0c2a4e-9b1f-4c3a-8e7d-000000000004'::uuid, '', 12300::bigint, 7, 0::numeric)
                ) AS v(rank, id, name, amount, count, rate)
                ORDER BY rank DESC
                """
            let logger = world.services.database.logger

            // Act
            let (asRows, asArrays) = try await world.services.database.withConnection { connection in
                (try await Statement().table(Self.columns, sql, on: connection, logger: logger),
                 try await Statement().table(Self.columns, sql, page: nil, on: connection, logger: logger))
            }

            // Check
            #expect(asArrays == asRows)
            #expect(asArrays.rows.map { $0[0] } == [5, 4, 3, 2, 1].map { .integer($0) })
            #expect(
                asArrays.rows[2] == [
                    .integer(3), .text("5d0c2a4e-9b1f-4c3a-8e7d-000000000003"), .text("Duka \"Bora\", Ltd"), .integer(Int64.max),
                    .integer(Int64(Int32.max)), .decimal("4.5"),
                ])
            #expect(asArrays.rows[4] == [.integer(1), .null, .text("line\r\nbreak"), .integer(Int64.min), .integer(Int64(Int32.min)), .decimal("-0.05")])
            #expect(asArrays.rows[0][1] == .text("ffffffff-ffff-ffff-ffff-ffffffffffff") && asArrays.rows[0][5] == .decimal("123456789012.25"))
            #expect(asArrays.count == 5 && asArrays.indices.allSatisfy { row in Self.columns.allSatisfy { asArrays[row, $0] == asRows[row, $0] } })
            #expect(asArrays.csv == asRows.csv)
        }
    }

    @Test func noRowsAreNoArrays() async throws {
        try await World.with { world in
            // Setup: an aggregate over no rows answers null arrays.
            let sql = "SELECT 1, gen_random_uuid(), 'x', 1::bigint, 1, 1::numeric WHERE false"
            let logger = world.services.database.logger

            // Act
            let table = try await world.services.database.withConnection { connection in
                try await Statement().table(Self.columns, sql, page: nil, on: connection, logger: logger)
            }

            // Check
            #expect(table.rows.isEmpty && table.isEmpty)
            #expect(String(decoding: table.csv, as: UTF8.self) == "rank,id,name,amount,count,rate\r\n")
        }
    }
}
