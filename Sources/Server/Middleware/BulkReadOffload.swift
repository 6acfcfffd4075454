import Dispatch
import HTTPTypes
import OpenAPIRuntime

/// The operations whose answers run to hundreds of kilobytes (pages of whole orders, analytics
/// reports and their CSV exports) are decoded, assembled and encoded on Dispatch's worker
/// threads instead of NIO's event loops. On the loops, one such answer (30 ms of CPU for a page
/// of completed orders, half of it the generated layer's JSON encoder) held up every connection and
/// every database reply that shared its loop, and two at once could queue on one loop while the
/// other core idled: with two admins reading at 100,000 orders, the page of completed orders
/// answered in 64–77 ms at p99 on the loops, 50–55 ms off them (wrk, 2 connections).
/// Everything else stays on the loops, where a small request saves the thread hops.
struct BulkReadOffload: ServerMiddleware {
    static let operations: Set<String> = [
        "listMyOrders", "listMerchantSubOrders", "searchOrders", "listHubParcels",
        "getSalesAnalytics", "getMerchantAnalytics", "getHubAnalytics", "getProductAnalytics", "getPaymentAnalytics",
        "getRefundAnalytics", "getMyMerchantAnalytics",
    ]

    let executor = DispatchTaskExecutor()

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard Self.operations.contains(operationID) else { return try await next(request, body, metadata) }
        return try await withTaskExecutorPreference(executor) { try await next(request, body, metadata) }
    }
}

/// Runs a task's jobs on Dispatch's global concurrent queue, whose idle workers take the next
/// job whichever thread queued it.
final class DispatchTaskExecutor: TaskExecutor {
    private let queue = DispatchQueue.global(qos: .userInitiated)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
