import ArgumentParser
import Configuration
import Core
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Server
import ServiceLifecycle

/// Swift concurrency's jobs run on NIO's event loops unless `CONCURRENCY_EXECUTOR=swift`: a
/// request's handler, its database calls and its answer then stay on the thread that does the
/// I/O instead of hopping between Swift's pool and the event loops at every step, which the
/// checkout profile showed as the largest single cost (thread switches). It must be installed
/// before any task runs, so `main` is synchronous and starts the command itself.
@main
enum Entry {
    static func main() {
        if ProcessInfo.processInfo.environment["CONCURRENCY_EXECUTOR"] != "swift" {
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        Task {
            await HubRoute.main()
            exit(0)
        }
        dispatchMain()
    }
}

struct HubRoute: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hubroute",
        abstract: "HubRoute: a multi-merchant marketplace whose parcels move through staffed hubs.",
        subcommands: [
            Serve.self, Migrate.self, CreateAdmin.self, SeedDemo.self, ReconcilePayments.self, AuditMoney.self, RefreshAnalytics.self,
            SeedVolume.self,
        ],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP service.")

    func run() async throws {
        try await Runtime.reportingSafely {
            let (config, logger) = try await Runtime.load()
            try await HubRouteService.run(config: config, logger: logger)
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations.")

    func run() async throws {
        let (config, logger) = try await Runtime.load()
        try await Runtime.withServices(config: config, logger: logger) { services in
            let applied = try await services.migrator.migrate(services.database)
            print(applied.isEmpty ? "Migrations are current." : "Applied \(applied.count): \(applied.joined(separator: ", "))")
        }
    }
}

struct CreateAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-admin", abstract: "Create an admin, or promote the account with this email.")

    @Option(help: "The admin's email.") var email: String
    @Option(help: "The admin's password (at least 10 characters).") var password: String
    @Option(name: .customLong("full-name"), help: "The admin's name.") var fullName = "Administrator"
    @Option(help: "A Kenyan mobile number.") var phone = "0700000000"

    func run() async throws {
        let (config, logger) = try await Runtime.load()
        try await Runtime.withServices(config: config, logger: logger) { services in
            let created = try await services.users.createAdmin(
                email: email, password: password, fullName: fullName, phone: phone, hasher: services.passwords)
            print(created ? "Created admin \(email)." : "Promoted \(email) to admin and set the password.")
        }
    }
}

struct SeedDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-demo", abstract: "Load demo hubs, zones, merchants, products and users (idempotent).")

    func run() async throws {
        let (config, logger) = try await Runtime.load()
        guard config.environment != .production else {
            throw ValidationError("seed-demo creates accounts with published passwords; it refuses to run with APP_ENV=production")
        }
        try await Runtime.withServices(config: config, logger: logger) { services in
            let report = try await DemoSeeder(services: services).seed()
            print(report)
            // The dashboards read materialized views: count the demo's orders now, not at the next refresh.
            let refresh = try await services.analytics.refresh()
            print("Analytics refreshed at \(refresh.refreshedAt.formatted(.iso8601)).")
        }
    }
}

struct ReconcilePayments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile-payments", abstract: "Settle every pending M-Pesa payment now from Daraja's STK query.")

    func run() async throws {
        let (config, logger) = try await Runtime.load()
        try await Runtime.withServices(config: config, logger: logger) { services in
            let outcome = try await services.payments.reconcileAll()
            print("Pending payments: \(outcome.pending); M-Pesa still processing: \(outcome.stillProcessing).")
        }
    }
}

struct AuditMoney: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-money",
        abstract: "Check the money ledger and stock on this database; print each discrepancy; exit 1 on any.")

    func run() async throws {
        let (config, logger) = try await Runtime.load()
        try await Runtime.withServices(config: config, logger: logger) { services in
            let discrepancies = try await services.audit.run()
            for discrepancy in discrepancies { print(discrepancy) }
            print(discrepancies.isEmpty ? "The books balance." : "\(discrepancies.count) discrepancies.")
            if !discrepancies.isEmpty { throw ExitCode(1) }
        }
    }
}

struct RefreshAnalytics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh-analytics", abstract: "Refresh every analytics view now; print each view's refresh time.")

    func run() async throws {
        let (config, logger) = try await Runtime.load()
        try await Runtime.withServices(config: config, logger: logger) { services in
            let refresh = try await services.analytics.refresh()
            for (view, milliseconds) in refresh.durations { print("\(view): \(milliseconds) ms") }
            print("Refreshed at \(refresh.refreshedAt.formatted(.iso8601)).")
        }
    }
}

struct SeedVolume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-volume",
        abstract: "Fill an empty database with a reproducible marketplace of many orders, in bulk (refused in production).")

    @Option(help: "Master orders to create.") var orders = 100_000
    @Option(help: "The world's seed: the same seed gives the same rows.") var seed: UInt64 = 1
    @Option(help: "Days the orders are spread over.") var days = 365
    @Option(help: "The business day the world stops at (exclusive), yyyy-MM-dd.") var end = "2026-12-01"

    func run() async throws {
        let (config, logger) = try await Runtime.load()
        guard config.environment != .production else {
            throw ValidationError("seed-volume writes a made-up marketplace; it refuses to run with APP_ENV=production")
        }
        try await Runtime.withServices(config: config, logger: logger) { services in
            let stop = try services.calendar.startOfDay(end, field: "end")
            let started = ContinuousClock.now
            let written = try await VolumeSeeder(database: services.database, timeZone: services.calendar.timeZone)
                .seed(.init(orders: orders, seed: seed, days: days, end: stop))
            for (table, rows) in written { print("\(table): \(rows)") }
            print("Seeded \(orders) orders (seed \(seed)) in \(ContinuousClock.now - started).")
        }
    }
}

/// Configuration, logging and a running connection pool for the commands.
enum Runtime {
    /// Runs a command's work; an error that ends it is printed by its type and safe reason
    /// only, so no setting, password, token or statement reaches the terminal or a log file.
    static func reportingSafely(_ work: () async throws -> Void) async throws {
        do {
            try await work()
        } catch let error as ValidationError {
            throw error
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw CommandFailure(reason: DatabaseError.loggable(error))
        }
    }

    struct CommandFailure: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    static func load() async throws -> (AppConfig, Logger) {
        let reader = ConfigReader(providers: [
            EnvironmentVariablesProvider(),
            try await EnvironmentVariablesProvider(environmentFilePath: ".env", allowMissing: true),
        ])
        let config: AppConfig
        do {
            config = try AppConfig.load(from: reader)
        } catch let error as ConfigurationError {
            throw ValidationError("refusing to start: \(error.setting) \(error.message)")
        }
        LoggingSystem.bootstrap { label in
            StreamLogging.standardOutput(label: label, level: Logger.Level(rawValue: config.logLevel) ?? .info)
        }
        return (config, Logger(label: "hubroute"))
    }

    static func withServices(
        config: AppConfig, logger: Logger, _ body: @escaping @Sendable (Services) async throws -> Void
    ) async throws {
        try await reportingSafely {
            let database = try Services.makeDatabase(config: config, logger: logger)
            let services = await Services(config: config, database: database)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await database.run() }
                defer { group.cancelAll() }
                try await body(services)
            }
        }
    }
}
