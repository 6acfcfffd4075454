import Foundation

/// The OAuth access token, cached and renewed one renewal at a time.
///
/// Daraja invalidates a token when it issues the next one, so concurrent callers must share a
/// single renewal rather than each fetch (and kill) a token: the first caller starts a task and
/// everyone else awaits that same task.
actor AccessTokenCache {
    typealias Fetch = @Sendable () async throws(DarajaError) -> (token: String, lifetime: Duration)

    private struct Token {
        let value: String
        let renewAt: Date
    }

    private let fetch: Fetch
    private let renewalMargin: Duration
    private let now: @Sendable () -> Date
    private var current: Token?
    private var renewal: Task<Result<Token, DarajaError>, Never>?

    init(renewalMargin: Duration, now: @escaping @Sendable () -> Date, fetch: @escaping Fetch) {
        self.renewalMargin = renewalMargin
        self.now = now
        self.fetch = fetch
    }

    /// A token that is not due for renewal, fetching one when needed.
    func token() async throws(DarajaError) -> String {
        if let current, now() < current.renewAt {
            return current.value
        }
        let task = renewal ?? startRenewal()
        let result = await task.value
        // Every waiter resumes here; only the first stores the outcome and clears the renewal.
        if renewal == task {
            renewal = nil
            if case .success(let token) = result { current = token }
        }
        return try result.get().value
    }

    /// Forgets `token` after Daraja refused it, unless a newer one already replaced it, so that
    /// several calls refused with the same token cause one renewal.
    func invalidate(_ token: String) {
        if current?.value == token { current = nil }
    }

    private func startRenewal() -> Task<Result<Token, DarajaError>, Never> {
        let task = Task { [fetch, renewalMargin, now] () -> Result<Token, DarajaError> in
            do throws(DarajaError) {
                let (value, lifetime) = try await fetch()
                let renewAt = now().addingTimeInterval(TimeInterval(max(.zero, lifetime - renewalMargin).components.seconds))
                return .success(Token(value: value, renewAt: renewAt))
            } catch {
                return .failure(error)
            }
        }
        renewal = task
        return task
    }
}
