import Core
import Foundation
import Hummingbird
import Logging
import NIOPosix
import PostgresNIO

/// `hubroute-stack-floor`: Hummingbird and PostgresClient with none of HubRoute's code, so that
/// `scripts/bench.sh floor` can measure what the stack itself costs per request and per
/// statement on this machine. Same executor, pool and connection settings as `hubroute serve`.
///
///   GET /plain   answers "ok"
///   GET /select  runs `SELECT 1` on a pooled connection and answers its value
///
/// Environment: PORT, DATABASE_URL, DATABASE_POOL_SIZE.
@main
enum StackFloor {
    static func main() {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        Task {
            do {
                try await serve()
                exit(0)
            } catch {
                FileHandle.standardError.write(Data("hubroute-stack-floor: \(error)\n".utf8))
                exit(1)
            }
        }
        dispatchMain()
    }

    static func serve() async throws {
        let environment = ProcessInfo.processInfo.environment
        let logger = {
            var logger = Logger(label: "stack-floor")
            logger.logLevel = .warning
            return logger
        }()
        let configuration = try Database.configuration(
            url: environment["DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres",
            maximumConnections: Int(environment["DATABASE_POOL_SIZE"] ?? "") ?? 8, statementTimeout: .seconds(5))
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let router = Router()
        router.get("/plain") { _, _ in "ok" }
        router.get("/select") { _, _ -> String in
            var total = 0
            for try await value in try await client.query("SELECT 1::int4", logger: logger).decode(Int32.self) {
                total += Int(value)
            }
            return String(total)
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: Int(environment["PORT"] ?? "") ?? 18099)),
            logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await client.run() }
            // Returns on SIGTERM; the pool runs until cancelled, and the process must end too.
            try await app.runService()
            group.cancelAll()
        }
    }
}
