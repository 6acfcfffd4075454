import Core
import HummingbirdBcrypt
import NIOPosix
import Synchronization

/// bcrypt, run on NIO's blocking thread pool so hashing never stalls the request threads.
public struct PasswordHasher: Sendable {
    public let cost: UInt8
    private let dummy: DummyHash

    public init(cost: Int) {
        self.cost = UInt8(clamping: cost)
        self.dummy = DummyHash(cost: self.cost)
    }

    /// Password rule: at least 10 characters; at most 72 bytes, bcrypt's limit, rather than
    /// silently ignoring the rest.
    public static func validate(_ password: String, into validator: inout Validator, field: String = "password") {
        validator.check(password.count >= 10, field, "must be at least 10 characters")
        validator.check(password.utf8.count <= 72, field, "must be at most 72 bytes")
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// Spends the same time as a real check when the account does not exist, so response time
    /// does not tell which emails are registered.
    public func verifyAgainstDummy(_ password: String) async throws {
        _ = try await verify(password, hash: try await dummy.hash())
    }
}

/// A hash of a password nobody has, at the configured cost (a cheaper one would answer unknown
/// emails faster than known ones), made once on first use rather than at every start.
private final class DummyHash: Sendable {
    private let cost: UInt8
    private let made = Mutex<Task<String, any Error>?>(nil)

    init(cost: UInt8) {
        self.cost = cost
    }

    func hash() async throws -> String {
        let cost = self.cost
        let task = made.withLock { made in
            if let made { return made }
            let task = Task { try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash("dummy password for timing", cost: cost) } }
            made = task
            return task
        }
        return try await task.value
    }
}
