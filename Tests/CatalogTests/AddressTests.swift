import Catalog
import Core
import Foundation
import Testing

@Suite struct AddressTests {
    @Test func anAddressNamesAnActiveZoneWithItsHubAndFee() async throws {
        try await Shop.with { shop in
            // Setup
            let customer = try await shop.customer("customer@example.com")

            // Act
            let address = try await shop.addresses.create(
                .init(label: " Home ", zoneID: shop.zoneID, line1: "Moi Avenue 12, flat 3", phone: "+254 712 345 678"), for: customer)

            // Check
            #expect(address.label == "Home" && address.line1 == "Moi Avenue 12, flat 3")
            #expect(address.phone == "254712345678")
            #expect(address.zone.id == shop.zoneID && address.zone.name == "Test Zone" && address.zone.deliveryFeeCents == 20_000)
            #expect(address.zone.hubID == shop.hubID && address.zone.hubCode == "NBO-T1" && address.zone.hubName == "Test Hub")
            let listed = try await shop.addresses.list(for: customer, page: try PageRequest(limit: nil, cursor: nil))
            #expect(listed.items == [address] && listed.nextCursor == nil)
        }
    }

    @Test func invalidAddressesAreRefused() async throws {
        try await Shop.with { shop in
            // Setup
            let customer = try await shop.customer("customer@example.com")
            let closedZone = try await shop.services.places.createZone(
                .init(name: "Closed Zone", hubID: shop.hubID, deliveryFeeCents: 10_000, isActive: false))
            let closedHub = try await shop.services.places.createHub(
                .init(code: "KSM-X", name: "Closed Hub", city: "Kisumu", address: "X", phone: "0711000000", isActive: false))
            let zoneOfClosedHub = try await shop.services.places.createZone(.init(name: "Far Zone", hubID: closedHub.id, deliveryFeeCents: 0))
            func create(_ zoneID: UUID, label: String = "Home", line1: String = "Street 1", phone: String = "0712345678") async -> Problem? {
                await problem { try await shop.addresses.create(.init(label: label, zoneID: zoneID, line1: line1, phone: phone), for: customer) }
            }

            // Act
            let inactiveZone = await create(closedZone.id)
            let inactiveHub = await create(zoneOfClosedHub.id)
            let unknownZone = await create(UUID())
            let badFields = await create(shop.zoneID, label: "", line1: String(repeating: "x", count: 301), phone: "12345")

            // Check
            for refused in [inactiveZone, inactiveHub, unknownZone] {
                #expect(refused?.status == 422 && refused?.fields == ["zone_id"])
            }
            #expect(badFields?.status == 422 && badFields?.fields == ["label", "line1", "phone"])
            let count = try await shop.database.query("SELECT count(*) FROM addresses")
            #expect(try count[0].decode(Int.self) == 0)
        }
    }

    @Test func everyoneSeesOnlyTheirOwnAddressesNewestFirst() async throws {
        try await Shop.with { shop in
            // Setup
            let alice = try await shop.customer("alice@example.com")
            let bob = try await shop.customer("bob@example.com")
            var alices: [UUID] = []
            for label in ["Home", "Work", "Mum"] {
                alices.append(
                    try await shop.addresses.create(.init(label: label, zoneID: shop.zoneID, line1: "Street", phone: "0712345678"), for: alice).id)
            }
            let bobs = try await shop.addresses.create(.init(label: "Home", zoneID: shop.zoneID, line1: "Road", phone: "0798765432"), for: bob)

            // Act
            let first = try await shop.addresses.list(for: alice, page: try PageRequest(limit: 2, cursor: nil))
            let second = try await shop.addresses.list(for: alice, page: try PageRequest(limit: 2, cursor: first.nextCursor))
            let bobsList = try await shop.addresses.list(for: bob, page: try PageRequest(limit: nil, cursor: nil))

            // Check
            #expect((first.items + second.items).map(\.id) == alices.reversed())
            #expect(second.nextCursor == nil)
            #expect(bobsList.items == [bobs])
        }
    }
}
