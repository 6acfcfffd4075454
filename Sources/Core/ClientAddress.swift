#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The proxies (`TRUSTED_PROXIES`: addresses or CIDR ranges) whose `X-Forwarded-For` is
/// believed, and the one rule for who the client is (SPEC section 12): the socket peer, or, when
/// the peer is a trusted proxy, the right-most untrusted address of `X-Forwarded-For`. Rate
/// limits, the callback allowlist and the request log all ask this.
public struct TrustedProxies: Sendable, Equatable {
    private let ranges: [AddressRange]

    public static let none = TrustedProxies(ranges: [])

    /// nil when an entry is neither an address nor a range.
    public init?(_ entries: [String]) {
        var ranges: [AddressRange] = []
        for entry in entries {
            guard let range = AddressRange(entry) else { return nil }
            ranges.append(range)
        }
        self.ranges = ranges
    }

    private init(ranges: [AddressRange]) {
        self.ranges = ranges
    }

    public func contains(_ address: String) -> Bool {
        guard let bytes = AddressRange.bytes(of: address) else { return false }
        return ranges.contains { $0.contains(bytes) }
    }

    /// The client's address for a request from `peer` carrying `forwardedFor`.
    public func clientAddress(peer: String?, forwardedFor: String?) -> String {
        guard let peer else { return "unknown" }
        guard contains(peer), let forwardedFor else { return peer }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        // Each proxy appends the address it heard from; the first untrusted one from the right is
        // the last address nobody we trust could have forged.
        for hop in hops.reversed() where !contains(hop) {
            return AddressRange.bytes(of: hop) == nil ? peer : hop
        }
        return hops.first ?? peer
    }
}

/// An IPv4 or IPv6 address with a prefix length.
private struct AddressRange: Sendable, Equatable {
    let network: [UInt8]
    let prefixLength: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let address = parts.first, let bytes = Self.bytes(of: address) else { return nil }
        let bits = bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        network = bytes
    }

    func contains(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == network.count else { return false }
        var remaining = prefixLength
        for index in bytes.indices where remaining > 0 {
            let take = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
            if bytes[index] & mask != network[index] & mask { return false }
            remaining -= take
        }
        return true
    }

    /// The address's bytes (4 or 16), or nil when it is not an IP address.
    static func bytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
