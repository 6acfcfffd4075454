import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Prometheus
import Synchronization

/// One structured log line and one metrics sample per request, with a request id echoed in
/// `X-Request-Id`. Logs the route template, never the raw path: callback paths carry secrets.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let logger: Logger
    let metrics: HTTPMetrics
    let trustedProxies: TrustedProxies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let requestID = Self.requestID(from: request)
        let clientIP = trustedProxies.clientAddress(
            peer: context.remoteAddress?.ipAddress, forwardedFor: request.headers[values: Self.forwardedFor].joined(separator: ","))
        let info = RequestInfo(id: requestID, clientIP: clientIP, authorization: request.headers[.authorization])
        var response = try await RequestInfo.$current.withValue(info) {
            try await next(request, context)
        }
        response.headers[Self.requestIDField] = requestID
        let duration = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        metrics.record(method: request.method.rawValue, route: route, status: response.status.code, duration: duration)
        logger.info(
            "request",
            metadata: [
                "request_id": .string(requestID), "method": .string(request.method.rawValue), "route": .string(route),
                "client": .string(clientIP),
                "status": .stringConvertible(response.status.code),
                "duration_ms": .string(Self.milliseconds(duration)),
            ])
        return response
    }

    /// A duration in milliseconds with two decimals, e.g. `3.07`.
    static func milliseconds(_ duration: Duration) -> String {
        let hundredths = duration.components.seconds * 100_000 + duration.components.attoseconds / 10_000_000_000_000
        let fraction = String(hundredths % 100)
        return "\(hundredths / 100).\(fraction.count == 1 ? "0" + fraction : fraction)"
    }

    private static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    private static let requestIDField = HTTPField.Name("X-Request-Id")!

    /// Keeps a caller's request id when it is short and plain, otherwise makes one.
    private static func requestID(from request: Request) -> String {
        if let given = request.headers[Self.requestIDField], (1...64).contains(given.count),
            given.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        {
            return given
        }
        return UUID().lowercased
    }
}

/// Request counters and latency histograms for `/metrics`.
public final class HTTPMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Each method, route and status's counter and histogram, made once: the registry builds
    /// the metric's name and its labels on every lookup, about 1% of a small request.
    private let series = Mutex<[SeriesKey: Series]>([:])

    private struct SeriesKey: Hashable {
        let method: String
        let route: String
        let status: Int
    }

    private struct Series {
        let requests: Counter
        let duration: DurationHistogram
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    func record(method: String, route: String, status: Int, duration: Duration) {
        let key = SeriesKey(method: method, route: route, status: status)
        let series = self.series.withLock { known in
            if let series = known[key] { return series }
            let series = Series(
                requests: registry.makeCounter(
                    descriptor: .init(metricName: "http_requests", unitName: "total", helpText: "HTTP requests answered"),
                    labels: [("method", method), ("route", route), ("status", String(status))]),
                duration: registry.makeDurationHistogram(
                    descriptor: .init(metricName: "http_request_duration", unitName: "seconds", helpText: "Time to answer HTTP requests"),
                    labels: [("method", method), ("route", route)],
                    buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                              .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)]))
            known[key] = series
            return series
        }
        series.requests.increment()
        series.duration.record(duration)
    }

    func exposition() -> String {
        registry.emitToString()
    }
}
