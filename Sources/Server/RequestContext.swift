import Foundation
import Hummingbird
import NIOCore

/// Hummingbird's per-request context, with the peer address for per-IP rate limits.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Request bodies above 1 MiB are refused with 413.
    public var maxUploadSize: Int { 1 << 20 }
}

/// What the generated handlers need of the HTTP request beyond their typed input. Set by
/// `RequestLogMiddleware` for the task that runs the handler.
struct RequestInfo: Sendable {
    @TaskLocal static var current = RequestInfo(id: "", clientIP: "unknown", authorization: nil)

    let id: String
    let clientIP: String
    let authorization: String?

    /// The token of a `Bearer` authorization, the scheme matched in any case and the token
    /// without surrounding blanks. Read on the bytes: it runs for every request, and Foundation's
    /// `trimmingCharacters` goes through `NSString` on Linux.
    var bearerToken: String? {
        guard let authorization else { return nil }
        let bytes = authorization.utf8
        let scheme = "bearer ".utf8
        guard bytes.count > scheme.count,
            zip(bytes, scheme).allSatisfy({ byte, expected in (65...90).contains(byte) ? byte + 32 == expected : byte == expected })
        else { return nil }
        let token = bytes.dropFirst(scheme.count)
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = token.firstIndex(where: { !isBlank($0) }), let last = token.lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(authorization[first...last])
    }
}
