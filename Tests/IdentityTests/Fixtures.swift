import Core
import Foundation
import Identity
import Server
import TestSupport

/// Services over a fresh database, with fast bcrypt.
func withServices(_ body: @escaping @Sendable (Services) async throws -> Void) async throws {
    try await TestDatabase.with { database, url in
        try await body(await Services(config: try TestApp.config(databaseURL: url), database: database))
    }
}

let password = "correct horse battery"

extension Services {
    func customer(_ email: String) async throws -> Session {
        try await auth.register(.init(email: email, password: password, fullName: "Test", phone: "0712345678"), clientIP: "127.0.0.1")
    }

    func admin() async throws -> Principal {
        try await users.createAdmin(email: "admin@example.com", password: password, fullName: "Admin", phone: "0700000000", hasher: passwords)
        let session = try await auth.login(email: "admin@example.com", password: password, clientIP: "127.0.0.1")
        return try await auth.authenticate(bearer: session.accessToken)
    }

    func hub(_ code: String) async throws -> UUID {
        try await places.createHub(.init(code: code, name: code, city: "Nairobi", address: "Street", phone: "0711000000")).id
    }
}
