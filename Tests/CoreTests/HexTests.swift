import Core
import Foundation
import Testing

@Suite struct HexTests {
    @Test func anIdIsFoundationsTextInLowerCase() {
        // Setup: the extremes and random ids.
        let ids = [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
                   UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))]
            + (0..<1000).map { _ in UUID() }

        // Act and check
        for id in ids { #expect(id.lowercased == id.uuidString.lowercased()) }
    }

    @Test func bytesAreLowerCaseHex() {
        #expect(Hex.encode([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
    }
}
