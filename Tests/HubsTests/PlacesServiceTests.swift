import Core
import Foundation
import Hubs
import Server
import TestSupport
import Testing

@Suite struct PlacesServiceTests {
    func withPlaces(_ body: @escaping @Sendable (Places, Database) async throws -> Void) async throws {
        try await TestDatabase.with { database, _ in
            try await body(Places(database: database, effects: .live), database)
        }
    }

    @Test func hubCodesAreUniqueAndUpperCase() async throws {
        try await withPlaces { places, _ in
            let hub = try await places.createHub(.init(code: "nbo-cbd", name: "CBD", city: "Nairobi", address: "Moi Ave", phone: "0711000000"))
            #expect(hub.code == "NBO-CBD")
            await #expect(throws: Problem.conflict("A hub with this code already exists.", code: "hub_code_taken")) {
                try await places.createHub(.init(code: "NBO-CBD", name: "Other", city: "Nairobi", address: "X", phone: "0711000000"))
            }
            let other = try await places.createHub(.init(code: "NBO-WST", name: "W", city: "Nairobi", address: "X", phone: "0711000000"))
            await #expect(throws: Problem.self) { try await places.updateHub(other.id, .init(code: "nbo-cbd")) }
            #expect(try await places.hub(other.id).code == "NBO-WST")
        }
    }

    @Test func aPartialUpdateChangesOnlyWhatIsGiven() async throws {
        try await withPlaces { places, _ in
            let hub = try await places.createHub(
                .init(code: "MSA", name: "Mombasa", city: "Mombasa", address: "Digo", phone: "0711000000", openingHours: "8-18"))
            let updated = try await places.updateHub(hub.id, .init(openingHours: "24h"))
            #expect(updated.openingHours == "24h")
            #expect(updated.name == hub.name && updated.code == hub.code && updated.phone == hub.phone)
        }
    }

    @Test func zoneFeesAreWholeNonNegativeShillings() async throws {
        try await withPlaces { places, database in
            let hub = try await places.createHub(.init(code: "KSM", name: "Kisumu", city: "Kisumu", address: "X", phone: "0711000000"))
            for fee: Int64 in [-100, 150, 99] {
                await #expect(throws: Problem.self) { try await places.createZone(.init(name: "Z\(fee)", hubID: hub.id, deliveryFeeCents: fee)) }
            }
            let free = try await places.createZone(.init(name: "Free", hubID: hub.id, deliveryFeeCents: 0))
            #expect(free.deliveryFeeCents == 0)
            #expect(free.hubCode == "KSM")
            await #expect(throws: Problem.self) { try await places.updateZone(free.id, .init(deliveryFeeCents: 250)) }
            let rows = try await database.query("SELECT delivery_fee_cents FROM zones")
            #expect(try rows.map { try $0.decode(Int64.self) } == [0])
        }
    }
}
