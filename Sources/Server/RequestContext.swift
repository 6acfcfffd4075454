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

    var bearerToken: String? {
        guard let authorization, authorization.count > 7, authorization.lowercased().hasPrefix("bearer ") else { return nil }
        return String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }
}
