import Core
import Foundation
import Hubs
import Identity
import Orders
import TestSupport
import Testing

@Suite struct CashRemittanceTests {
    @Test func remittancesRacingDeliveriesNeverLoseOrDoubleCountCash() async throws {
        try await World.with { world in
            // Setup: twelve COD parcels of the NBO merchant, out for delivery with one NBO staff member.
            let staffID = try await world.staff(at: world.hubs[0], "Nancy Wairimu")
            let staff = Principal(userID: staffID, role: .hubStaff, hubID: world.hubs[0], merchantID: nil)
            var parcels: [SubOrder] = []
            for index in 0..<12 {
                try await world.put(world.products[0][index % 2], 1)
                parcels.append(try await world.checkout(method: .cod).order.subOrders[0])
            }
            for parcel in parcels { try await world.force(parcel.id, to: .outForDelivery) }
            let operations = world.services.hubOperations
            let cash = world.services.cash

            // Act: every delivery and six remittances at once.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for parcel in parcels {
                    group.addTask {
                        _ = try await operations.deliver(
                            parcel.id, handoverCode: parcel.handoverCode!, codCollectedCents: parcel.totalCents, by: staff)
                    }
                }
                for _ in 0..<6 {
                    group.addTask { _ = try? await cash.remit(declaredCents: 0, by: staff) }
                }
                try await group.waitForAll()
            }
            let finalRemittance = try? await cash.remit(declaredCents: 0, by: staff)

            // Check: each collection is in exactly one remittance, and each remittance expects
            // exactly its collections.
            let collected = parcels.reduce(Int64(0)) { $0 + $1.totalCents }
            #expect(try await world.count("cod_collections") == 12)
            #expect(try await world.count("cod_collections WHERE remittance_id IS NULL") == 0)
            let remittances = try await cash.remittances(of: staff, page: try PageRequest(limit: 100, cursor: nil)).items
            #expect(remittances.reduce(0) { $0 + $1.expectedCents } == collected)
            #expect(remittances.flatMap(\.collections).count == 12)
            #expect(Set(remittances.flatMap(\.collections).map(\.subOrderID)).count == 12)
            for remittance in remittances {
                #expect(remittance.expectedCents == remittance.collections.reduce(0) { $0 + $1.amountCents })
                #expect(remittance.varianceCents == -remittance.expectedCents)
            }
            #expect(finalRemittance == nil || remittances.contains { $0.id == finalRemittance?.id })
        }
    }

    @Test func openCashIsPerHubAndStaffForAdmins() async throws {
        try await World.with { world in
            let first = try await world.staff(at: world.hubs[0], "Nancy Wairimu")
            let second = try await world.staff(at: world.hubs[0], "Ochieng Otieno")
            for (staffID, product) in [(first, world.products[0][0]), (first, world.products[0][1]), (second, world.products[0][0])] {
                try await world.put(product, 1)
                let parcel = try await world.checkout(method: .cod).order.subOrders[0]
                try await world.force(parcel.id, to: .outForDelivery)
                _ = try await world.services.hubOperations.deliver(
                    parcel.id, handoverCode: parcel.handoverCode!, codCollectedCents: parcel.totalCents,
                    by: Principal(userID: staffID, role: .hubStaff, hubID: world.hubs[0], merchantID: nil))
            }

            let open = try await world.services.cash.openCashByStaff()

            #expect(open.map(\.staffName) == ["Test", "Test"])
            #expect(Set(open.map(\.staffID)) == [first, second])
            let firstCash = try #require(open.first { $0.staffID == first })
            let secondCash = try #require(open.first { $0.staffID == second })
            let expectedFirst: Int64 = (12_300 + 50_000) + (50_000 + 50_000)
            let expectedSecond: Int64 = 12_300 + 50_000
            #expect(firstCash.collectionCount == 2)
            #expect(firstCash.openCents == expectedFirst)
            #expect(secondCash.openCents == expectedSecond)
            #expect(open.allSatisfy { $0.hub.id == world.hubs[0] })
        }
    }
}
